"""The one intake every channel hands received files to (see service.py for the steps)."""
