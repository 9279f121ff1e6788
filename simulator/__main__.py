"""``python -m simulator``: serve the department simulator, or write its contracts.

    python -m simulator serve [--host H] [--port P] [--scenarios FILE.csv]
    python -m simulator contracts        # rewrite contracts/openapi/*.json

Settings come from the environment (``SIMULATOR_DATABASE_URL``, ``SIMULATOR_CLIENTS``,
``SIMULATOR_ADMIN_TOKEN``; see ``simulator.app.SimulatorSettings``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the departments' systems over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8100)
    serve.add_argument("--scenarios", type=Path, help="a CSV of id_number,name,scenario rows")
    commands.add_parser("contracts", help="write each department's OpenAPI document")
    args = parser.parse_args(argv)

    if args.command == "contracts":
        from simulator.app import CONTRACTS, openapi_documents

        CONTRACTS.mkdir(parents=True, exist_ok=True)
        for system, document in openapi_documents().items():
            path = CONTRACTS / f"{system}.json"
            path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
            print(path)
        return 0

    import uvicorn

    from simulator import scenarios
    from simulator.app import SimulatorSettings, create_app

    settings = SimulatorSettings()
    app = create_app(settings)
    if args.scenarios is not None:
        try:
            rows = scenarios.parse_csv(args.scenarios.read_text(encoding="utf-8-sig"))
        except (OSError, scenarios.CsvError) as exc:
            print(f"simulator: {args.scenarios}: {exc}", file=sys.stderr)
            return 2
        applied = scenarios.apply_all(app.state.simulator.sessions, rows)
        print(f"simulator: {applied} scenarios from {args.scenarios}", file=sys.stderr)
    # Idle connections are kept longer than the callers keep them (httpx: 5 s), so a caller never
    # sends on a connection the simulator is closing at that moment.
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_keep_alive=75)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
