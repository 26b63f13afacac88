"""sins: the image synthesis loss survey and its experiments."""
__version__ = "0.1.0"
