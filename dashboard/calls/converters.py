from dashboard.smsmobileapi.records import CallKind


class CallKindConverter:
    regex = "|".join(k.value for k in CallKind)

    def to_python(self, value: str) -> CallKind:
        return CallKind(value)

    def to_url(self, value: CallKind | str) -> str:
        return CallKind(value).value
