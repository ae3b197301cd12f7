from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Outcome(_message.Message):
    __slots__ = ("trace_id", "conversation_id", "outcome", "kpis", "time_unix_nano")
    class KpisEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    KPIS_FIELD_NUMBER: _ClassVar[int]
    TIME_UNIX_NANO_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    conversation_id: str
    outcome: str
    kpis: _containers.ScalarMap[str, float]
    time_unix_nano: int
    def __init__(self, trace_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., outcome: _Optional[str] = ..., kpis: _Optional[_Mapping[str, float]] = ..., time_unix_nano: _Optional[int] = ...) -> None: ...

class ReportRequest(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[Outcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[Outcome, _Mapping]]] = ...) -> None: ...

class ReportResponse(_message.Message):
    __slots__ = ("applied", "held", "duplicates")
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    applied: int
    held: int
    duplicates: int
    def __init__(self, applied: _Optional[int] = ..., held: _Optional[int] = ..., duplicates: _Optional[int] = ...) -> None: ...
