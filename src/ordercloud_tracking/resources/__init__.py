"""API resources. Each module holds a synchronous class and its ``Async`` twin.

The keywords their methods share are defined once here: :class:`RequestOptions` (every call),
:class:`ListParams` (``list`` and the ``list_*`` calls) and :class:`IterAllParams` (``iter_all``).
"""

from ._params import IterAllParams, ListParams, RequestOptions

__all__ = ["IterAllParams", "ListParams", "RequestOptions"]
