"""Rendering images for people: settings per user and image, thumbnails, rendered regions."""
