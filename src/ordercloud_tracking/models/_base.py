"""Shared building blocks of every wire model (pydantic v2).

Conventions (DESIGN §4):

* snake_case attributes, the exact OrderCloud JSON name as alias; both names are accepted on input and
  the alias is used on output. :func:`wire_name` derives the alias from the attribute (``product_id`` →
  ``ProductID``); the few fields OrderCloud spells otherwise (``OrderId``, ``LineSubTotal``) declare it.
  An alias is set as ``validation_alias=`` plus ``serialization_alias=`` (never ``alias=``): type
  checkers read ``alias=`` as the ``__init__`` parameter name (PEP 681), so
  ``LineItem(product_id="SKU-1", quantity=1)`` type-checks in pyright and in mypy without the pydantic
  plugin. :func:`json_name` gives a field's JSON name;
* unknown fields are kept (``extra="allow"``) and written back untouched;
* money is :class:`~decimal.Decimal`, written as a JSON number;
* dates are timezone-aware datetimes (a naive value is taken as UTC);
* secrets are :class:`pydantic.SecretStr`: masked in ``repr``, ``str`` and ``model_dump()``; only
  :meth:`OCModel.to_request` (which writes a request body) reveals them;
* a :class:`pydantic.ValidationError` raised by a model never holds a secret: its ``errors()``,
  ``json()``, ``str()`` and pickle carry masked inputs (by field and key name, and every ``SecretStr``).
"""

from __future__ import annotations

import enum
import types
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Final, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    AliasGenerator,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    PlainSerializer,
    SecretStr,
    SerializationInfo,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
)
from pydantic.fields import FieldInfo
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError, PydanticUndefined, core_schema
from typing_extensions import Self

from .._context import API_CONTEXT

__all__ = [
    "API_CONTEXT",
    "MASK",
    "REVEAL_SECRETS",
    "SECRET_KEYS",
    "DateTime",
    "JSONObject",
    "Money",
    "OCModel",
    "OpenEnum",
    "Secret",
    "caller_max_length",
    "from_api_context",
    "json_name",
    "mask_secrets",
    "reveal_context",
    "reveals_secrets",
    "scrub_validation_error",
    "wire_name",
]

JSONObject = dict[str, Any]

#: Serialization-context key that makes secrets be written in clear (request bodies only).
REVEAL_SECRETS: Final = "reveal_secrets"
MASK: Final = "**********"
#: Normalised (lower case, no underscores) field and key names whose values are credentials.
SECRET_KEYS: Final = frozenset(
    {
        "secret",
        "apikey",
        "saslpassword",
        "connectionstring",
        "customauthheadervalue",
        "password",
        "clientsecret",
        "accesstoken",
        "refreshtoken",
    }
)
_MAX_MASK_DEPTH: Final = 64
_T = TypeVar("_T")


def reveal_context() -> dict[str, Any]:
    """Serialization context that writes secret values in clear (request bodies only)."""
    return {REVEAL_SECRETS: True}


def reveals_secrets(context: Mapping[str, Any] | None) -> bool:
    """Whether a serialization ``context`` asks for secrets in clear (see :func:`reveal_context`)."""
    return bool(context and context.get(REVEAL_SECRETS))


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.replace("_", "").lower() in SECRET_KEYS


def mask_secrets(value: Any, _depth: int = 0) -> Any:
    """A copy of a JSON-like value with credentials masked: every ``SecretStr``, and every value under a
    credential key (``Secret``, ``ApiKey``, ``SaslPassword`` … in any casing). Nesting deeper than 64
    levels is cut off."""
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, BaseModel):  # a model given as input: its fields, secrets masked
        value = value.model_dump(by_alias=True)
    if _depth >= _MAX_MASK_DEPTH and isinstance(value, (dict, list, tuple)):
        return "…"
    if isinstance(value, dict):
        return {
            key: MASK if _is_secret_key(key) and item is not None else mask_secrets(item, _depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [mask_secrets(item, _depth + 1) for item in value]
    return value


def scrub_validation_error(exc: ValidationError) -> ValidationError:
    """The same errors (type, location, message) with every input masked and no context objects."""
    details: list[InitErrorDetails] = []
    for error in exc.errors(include_url=False, include_context=False):
        loc = tuple(error["loc"])
        raw = error.get("input")
        masked = MASK if any(_is_secret_key(part) for part in loc) and raw is not None else mask_secrets(raw)
        details.append({"type": PydanticCustomError(error["type"], error["msg"]), "loc": loc, "input": masked})
    return ValidationError.from_exception_data(exc.title, details, hide_input=True)


def _scrubbing_errors(validate: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
    """``validate(*args, **kwargs)``; a ``ValidationError`` comes out through :func:`scrub_validation_error`.

    The clean error is raised outside the handler, so that the raw one is not kept as its ``__context__``.
    """
    try:
        return validate(*args, **kwargs)
    except ValidationError as exc:
        error = scrub_validation_error(exc)
    raise error


def _number(value: Decimal) -> int | float | str:
    # JSON numbers in and out: integral values as int, others as the shortest float that round-trips.
    if not value.is_finite():
        return str(value)
    if value == value.to_integral_value():
        return int(value)
    return float(value)


Money = Annotated[Decimal, PlainSerializer(_number, when_used="json")]
"""A :class:`~decimal.Decimal` that is written as a JSON number."""


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


DateTime = Annotated[datetime, AfterValidator(_aware)]
"""A timezone-aware datetime; naive input is taken as UTC."""


def _secret_out(value: SecretStr, info: SerializationInfo) -> Any:
    if reveals_secrets(info.context):
        return value.get_secret_value()
    if info.mode_is_json():
        return str(value)  # "**********"
    return value


Secret = Annotated[SecretStr, PlainSerializer(_secret_out, when_used="always")]
"""A write-only credential: masked everywhere except in a request body."""


class OpenEnum(str, enum.Enum):
    """A string enum that accepts values it does not know."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        pseudo = str.__new__(cls, value)
        pseudo._name_ = value
        pseudo._value_ = value
        return pseudo

    @property
    def is_known(self) -> bool:
        """Whether this value is one of the members the SDK knows."""
        return type(self).__members__.get(self._name_) is self

    def __str__(self) -> str:
        return str(self.value)


def wire_name(name: str) -> str:
    """OrderCloud's JSON name for an attribute: PascalCase with ``id`` as ``ID``; ``xp`` stays ``xp``.

    >>> wire_name("ship_from_address_id"), wire_name("line_subtotal"), wire_name("xp")
    ('ShipFromAddressID', 'LineSubtotal', 'xp')
    """
    if name == "xp":
        return name
    return "".join("ID" if word == "id" else word.capitalize() for word in name.split("_"))


def json_name(name: str, field: FieldInfo) -> str:
    """The JSON (wire) name of the model field ``name``: its serialization alias, else its name."""
    return field.serialization_alias or field.alias or name


def _allows_none(annotation: Any) -> bool:
    if annotation is None or annotation is type(None):
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return _allows_none(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return any(_allows_none(arg) for arg in get_args(annotation))
    return annotation is Any


class OCModel(BaseModel):
    """Base class of every OrderCloud wire model."""

    model_config = ConfigDict(
        extra="allow",
        validate_by_name=True,
        serialize_by_alias=True,
        hide_input_in_errors=True,
        # JSON names as validation and serialization aliases, never ``alias=`` (see the module docstring).
        alias_generator=AliasGenerator(validation_alias=wire_name, serialization_alias=wire_name),
    )

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # A body from the API may leave out a nullable required field (write-only secrets, fields added
        # in later API versions); a caller constructing a model still has to give them. Only models that
        # have such fields get the wrapping validator, so every other model validates without a Python
        # call per object.
        schema = handler(source)
        fields = getattr(cls, "__pydantic_fields__", None) or {}
        nullable_required = frozenset(
            json_name(name, field)
            for name, field in fields.items()
            if field.default is PydanticUndefined and field.default_factory is None and _allows_none(field.annotation)
        )
        if not nullable_required:
            return schema
        alias_to_name = {json_name(name, field): name for name, field in fields.items()}

        def fill_absent_from_api(data: Any, validate: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
            context = info.context
            missing: list[str] = []
            if context and context.get("from_api") and isinstance(data, dict):
                missing = [key for key in nullable_required if key not in data]
                if missing:
                    data = {**data, **dict.fromkeys(missing)}
            obj = validate(data)
            for key in missing:  # filled fields are not "set": writing the object back does not send nulls
                obj.__pydantic_fields_set__.discard(alias_to_name[key])
            return obj

        return core_schema.with_info_wrap_validator_function(fill_absent_from_api, schema)

    # Every way in from outside scrubs a ValidationError of secrets (nested models are validated by
    # pydantic-core inside the outer call, so only these entry points raise to the caller).
    def __init__(self, /, **data: Any) -> None:
        _scrubbing_errors(super().__init__, **data)

    # Not a "custom __init__" to pydantic (as RootModel does): nested models are still validated by
    # pydantic-core with the caller's context, without calling this method.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]  # a marker pydantic reads

    @classmethod
    def model_validate(cls, *args: Any, **kwargs: Any) -> Self:
        """Validate a Python object (a ``ValidationError`` never holds a secret)."""
        return _scrubbing_errors(super().model_validate, *args, **kwargs)

    @classmethod
    def model_validate_json(cls, *args: Any, **kwargs: Any) -> Self:
        """Validate JSON (a ``ValidationError`` never holds a secret)."""
        return _scrubbing_errors(super().model_validate_json, *args, **kwargs)

    @classmethod
    def model_validate_strings(cls, *args: Any, **kwargs: Any) -> Self:
        """Validate a mapping of strings (a ``ValidationError`` never holds a secret)."""
        return _scrubbing_errors(super().model_validate_strings, *args, **kwargs)

    @classmethod
    def from_api(cls, data: Any) -> Self:
        """Validate a body returned by the API (tolerates absent write-only fields)."""
        return cls.model_validate(data, context=API_CONTEXT)

    @classmethod
    def from_api_json(cls, data: str | bytes) -> Self:
        """Validate a JSON body returned by the API."""
        return cls.model_validate_json(data, context=API_CONTEXT)

    def to_request(self, *, exclude_unset: bool = True) -> dict[str, Any]:
        """The JSON body to send: aliases, secrets in clear, unknown fields kept."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=exclude_unset, context=reveal_context())

    def to_request_json(self, *, exclude_unset: bool = True) -> bytes:
        """:meth:`to_request` as JSON bytes, ready to send."""
        return self.__pydantic_serializer__.to_json(
            self, by_alias=True, exclude_unset=exclude_unset, context=reveal_context()
        )

    def __repr_args__(self) -> Any:
        # Unknown (extra) fields are not shown in repr: they may carry credentials we cannot mask.
        for name, value in super().__repr_args__():
            if name is not None and self.__pydantic_extra__ and name in self.__pydantic_extra__:
                continue
            yield name, value


def from_api_context(info: ValidationInfo) -> bool:
    """Whether the model is being validated from an API body (see :meth:`OCModel.from_api`)."""
    return bool(info.context and info.context.get("from_api"))


def caller_max_length(limit: int) -> AfterValidator:
    """A maximum length checked only when the caller builds the model (not on API bodies)."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if value is None or from_api_context(info):
            return value
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if len(text) > limit:
            raise ValueError(f"must be at most {limit} characters (got {len(text)})")
        return value

    return AfterValidator(check)


ModelT = TypeVar("ModelT", bound=OCModel)
