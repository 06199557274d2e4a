"""Enrollment service for the ZTE ICT and Alibaba e-commerce youth training programmes."""

__version__ = "0.1.0"
