"""The catalog's objects as users see them: projects, datasets, images, filesets, original
files and annotations, and moving or deleting them with OMERO's graph rules.
"""
