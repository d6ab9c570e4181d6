"""Write requirements-lock.txt from a `pip install --dry-run --report` JSON (used by `make lock`)."""
import json
import re
import sys

LINUX_ONLY = re.compile(r"^(nvidia-|cuda-|triton$)")

report, out = sys.argv[1], sys.argv[2]
pkgs = sorted((i["metadata"]["name"].lower(), i["metadata"]["version"]) for i in json.load(open(report))["install"])
with open(out, "w") as f:
    f.write("# Exact versions of the course's environment (Python 3.11, CPU), resolved from requirements.in.\n"
            "# Used by `make setup` / `make test` / CI. Regenerate with `make lock`.\n")
    for name, version in pkgs:
        marker = ' ; platform_system == "Linux" and platform_machine == "x86_64"' if LINUX_ONLY.match(name) else ""
        f.write(f"{name}=={version}{marker}\n")
