"""The systemd notify protocol, spoken directly: one datagram per message to $NOTIFY_SOCKET.

No libsystemd: the socket path is in the environment (a leading `@` means Linux's abstract
namespace), and each message is `KEY=value` lines. Without $NOTIFY_SOCKET every call is a no-op.
"""
from __future__ import annotations

import os
import socket
import time


class Notifier:
    def __init__(self, address: str | None = None):
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET")
        self.address = ("\0" + address[1:]) if address and address.startswith("@") else address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) if self.address else None
        if self.sock is not None:
            self.sock.setblocking(False)  # a full receive queue must never stall the daemon
        usec = os.environ.get("WATCHDOG_USEC")
        # systemd asks for a ping within WatchdogSec; send one every third of it.
        self.watchdog_interval = int(usec) / 3e6 if usec and usec.isdigit() else None
        self._last_ping = float("-inf")
        self._last_status: str | None = None

    def send(self, **fields: str) -> None:
        if self.sock is None:
            return
        message = "\n".join(f"{k}={v}" for k, v in fields.items()).encode()
        try:
            self.sock.sendto(message, self.address)
        except OSError:  # systemd gone, not listening, or its queue full: the work does not depend on it
            pass

    def ready(self, status: str) -> None:
        self._last_status = status
        self.send(READY="1", STATUS=status)

    def status(self, text: str) -> None:
        if text != self._last_status:  # callers may repeat themselves; systemd hears each change once
            self._last_status = text
            self.send(STATUS=text)

    def watchdog(self) -> None:
        """Ping systemd's watchdog when one is due (a third of WatchdogSec); cheap to call often."""
        now = time.monotonic()
        if self.watchdog_interval and now - self._last_ping >= self.watchdog_interval:
            self._last_ping = now
            self.send(WATCHDOG="1")

    def stopping(self) -> None:
        self.send(STOPPING="1", STATUS="stopping")
