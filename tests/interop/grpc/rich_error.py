"""A standard gRPC client (grpcio + grpcio-status, no generated stubs) calls the gateway's
TokenBroker.MintToken and decodes the rich error details of the refusal: google.rpc.ErrorInfo and,
when present, google.rpc.RetryInfo. Prints one JSON line for the Rust test to assert on.

Environment: AGENTMINT_GRPC_TARGET (host:port), AGENTMINT_BEARER (the sandbox credential),
AGENTMINT_PROVIDER, AGENTMINT_SCOPE, AGENTMINT_TIMEOUT_SECS (the call's deadline, default 20).
"""

import json
import os
import sys

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def string_field(number: int, value: str) -> bytes:
    data = value.encode()
    return varint(number << 3 | 2) + varint(len(data)) + data


def mint_request(provider: str, kind: int, scope: str) -> bytes:
    """agentmint.v1.MintTokenRequest: provider = 1, kind = 2 (enum), scopes = 3 (repeated)."""
    return string_field(1, provider) + varint(2 << 3 | 0) + varint(kind) + string_field(3, scope)


def main() -> int:
    channel = grpc.insecure_channel(os.environ["AGENTMINT_GRPC_TARGET"])
    mint = channel.unary_unary("/agentmint.v1.TokenBroker/MintToken")
    request = mint_request(os.environ["AGENTMINT_PROVIDER"], 1, os.environ["AGENTMINT_SCOPE"])
    bearer = os.environ["AGENTMINT_BEARER"]
    try:
        timeout = float(os.environ.get("AGENTMINT_TIMEOUT_SECS", "20"))
        mint(request, metadata=[("authorization", f"Bearer {bearer}")], timeout=timeout)
    except grpc.RpcError as err:
        status = rpc_status.from_call(err)
        if status is None:
            print(json.dumps({"code": err.code().name, "details": None}))
            return 1
        out = {"code": err.code().name, "message": status.message}
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                out["error_info"] = {
                    "reason": info.reason,
                    "domain": info.domain,
                    "metadata": dict(info.metadata),
                }
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
                out["retry_delay_seconds"] = retry.retry_delay.seconds
        print(json.dumps(out))
        return 0
    print(json.dumps({"code": "OK"}))
    return 1


if __name__ == "__main__":
    sys.exit(main())
