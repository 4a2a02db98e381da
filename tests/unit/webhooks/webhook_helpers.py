"""Test doubles for the webhook tests."""

SIGNING_KEY = "test-signing-key"


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeResponse:
    def __init__(self, status: int) -> None:
        self.status = status


class FakeHttp:
    """Stands in for urllib3.PoolManager: records requests, answers ``status`` (or raises ``error``)."""

    def __init__(self) -> None:
        self.requests = []
        self.status = 200
        self.error = None

    def request(self, method, url, body=None, headers=None, redirect=True):
        self.requests.append({"method": method, "url": url, "body": body, "headers": headers})
        if self.error is not None:
            raise self.error
        return FakeResponse(self.status)

    def down(self):
        import urllib3

        self.error = urllib3.exceptions.ConnectTimeoutError(None, "timed out")

    def up(self):
        self.error = None
        self.status = 200
