"""One extension per capability; every module here is loaded at start."""
