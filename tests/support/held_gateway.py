"""A simulated gateway whose charge is held (for a process to be killed in it).

PAYMENT_GATEWAY=tests.support.held_gateway.HeldGateway in a child's environment: each
charge creates GATEWAY_ENTERED and then waits (at most a minute) before the simulated
gateway is asked, so the test can kill the process while its booking is written and
its payment under way.
"""

import os
import time
from decimal import Decimal
from pathlib import Path

from payments.gateway import ChargeResult, SimulatedGateway


class HeldGateway(SimulatedGateway):
    def charge(self, *, amount: Decimal, token: str, idempotency_key: str) -> ChargeResult:
        Path(os.environ["GATEWAY_ENTERED"]).touch()
        time.sleep(60)  # killed meanwhile; never reached in a passing test
        return super().charge(amount=amount, token=token, idempotency_key=idempotency_key)
