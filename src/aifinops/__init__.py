"""aifinops: find, price and track the waste in AWS AI workloads."""

__version__ = "0.1.0"
