"""API resources. Each module holds a synchronous class and its ``Async`` twin."""
