"""uvicorn's httptools protocol, declining an HTTP/2 upgrade offer without losing the body.

Java's HttpClient (QuPath's, on ``http://`` addresses) offers ``Upgrade: h2c`` on the
first request of a connection, a POST with its body included. llhttp treats every
upgrade request as the end of HTTP/1.1 on that connection: httptools tells it to skip
the body, and uvicorn's protocol then hands the application an empty body (a login
without its password) and reads nothing more from the connection. h11 declines the
offer and carries on, which is what RFC 9113 asks of a server that does not speak h2c.

This protocol does the same with httptools (several times faster per request than h11,
which matters for tiles): when the parser stops at an h2c offer, the body that follows
is read by ``Content-Length`` into the request, and a fresh parser takes the
connection on. Any other offer that is not taken up (a WebSocket is) is declined the
same way, whatever its spelling (``Upgrade: h2c, foo``, split ``Connection`` headers).
"""

from __future__ import annotations

import httptools
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class H2cDecliningHttpToolsProtocol(HttpToolsProtocol):
    """See the module's text."""

    _body_left: int | None = None  # bytes still owed to a declined upgrade's body
    _refused = False  # the current request is an offer this protocol cannot carry

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        while data:  # a loop, not recursion: a pipeline of offers is many requests
            if self._body_left is not None:
                data = self._take_body(data)
                continue
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            except httptools.HttpParserUpgrade as upgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:  # h2c, or any offer not taken up: answered in HTTP/1.1
                    data = self._decline(data[upgrade.args[0]:])
                    continue
            return

    def on_headers_complete(self) -> None:
        # A chunked body with an offer: llhttp will not read it, and this protocol
        # reads only a Content-Length; the request is refused before the application
        # is started with an empty body (a logout or a delete needs none).
        self._refused = self.parser.should_upgrade() and not self._should_upgrade() \
            and any(name == b"transfer-encoding" for name, _ in self.headers)
        if not self._refused:
            super().on_headers_complete()

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _decline(self, rest: bytes) -> bytes:
        """Carry on in HTTP/1.1 after an h2c offer: the body is the request's own, read
        by its Content-Length; what follows it is returned for the next request."""
        headers = dict(self.headers)
        if self._refused:
            self.send_400_response("a chunked body with an HTTP/2 upgrade offer; send it "
                                   "without 'Upgrade: h2c' or with a Content-Length")
            return b""
        # llhttp has checked the Content-Length's digits; the body is held no more than
        # any other (flow control pauses reading until the application takes it).
        self.parser = httptools.HttpRequestParser(self)
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self._body_left = int(headers.get(b"content-length", b"0"))
        return self._take_body(rest)

    def _take_body(self, data: bytes) -> bytes:
        """Give the request the part of ``data`` that is its body; return what follows."""
        assert self._body_left is not None
        taken, rest = data[:self._body_left], data[self._body_left:]
        self._body_left -= len(taken)
        cycle = self.cycle
        if not self._body_left:
            self._body_left = None
        if cycle.response_complete:  # answered without it (a 404, a 401): dropped
            return rest
        cycle.body += taken
        cycle.more_body = self._body_left is not None
        if len(cycle.body) > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        cycle.message_event.set()
        return rest
