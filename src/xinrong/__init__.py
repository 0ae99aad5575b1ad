"""信融 xinrong: credit-financing service platform for small and micro enterprises."""

__version__ = "0.1.0"
