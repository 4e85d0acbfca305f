"""OMERO.web's URLs, answered as OMERO.web and its microservices answer them, so that
OMERO's own clients (QuPath, OMERO.iviewer, OMERO.figure, scripts) work unchanged."""
