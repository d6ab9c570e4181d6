"""Command line: ``python -m sslstudy {run,course,data,export,colab-links,strip}``."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m sslstudy", description="The course's command line.")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="execute one notebook with papermill parameters (e.g. -p mode full)")
    r.add_argument("notebook")
    r.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[])
    r.add_argument("-o", "--output", default=None, help="executed copy (default build/<same path>)")
    c = sub.add_parser("course", help="execute every notebook (or one week) into build/ and print a table")
    c.add_argument("--week", default=None)
    c.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[])
    c.add_argument("--list", action="store_true", help="only list the notebooks")
    d = sub.add_parser("data", help="which datasets are found where (and --download NAME … to fetch them)")
    d.add_argument("--download", nargs="+", metavar="NAME", default=[], help="download into the cache folder")
    e = sub.add_parser("export", help="write methods/<name>.py from the code-analysis notebooks")
    e.add_argument("--check", action="store_true", help="only report modules that differ from their notebook")
    cl = sub.add_parser("colab-links", help="restamp every Colab badge and setup cell")
    cl.add_argument("slug")
    cl.add_argument("--ref", default="main")
    sub.add_parser("strip", help="remove outputs from every notebook")
    args = p.parse_args(argv)

    from . import nbtools

    if args.cmd == "run":
        out, secs, head = nbtools.run_notebook(args.notebook, nbtools.parse_params(args.parameter), args.output)
        print(f"executed {args.notebook} in {secs:.0f} s → {out}" + (f"\n{head}" if head else ""))
    elif args.cmd == "course":
        if args.list:
            print("\n".join(str(n.relative_to(nbtools.root())) for n in nbtools.course_notebooks()))
            return 0
        rows = nbtools.run_course(args.week, nbtools.parse_params(args.parameter))
        return 1 if any(r["status"] != "ok" for r in rows) else 0
    elif args.cmd == "data":
        from . import data

        for name in args.download:
            data.load(name, "train", download=True)
        for row in data.report():
            print(f"{row['dataset']:14s} {'found  ' if row['found'] else 'MISSING'} {row['where']}")
    elif args.cmd == "export":
        drift = nbtools.export_all(check=args.check)
        verb = "differ from their notebooks" if args.check else "written"
        print(f"{len(drift)} module(s) {verb}" + "".join(f"\n  {d}" for d in drift))
        return 1 if (args.check and drift) else 0
    elif args.cmd == "colab-links":
        changed = nbtools.restamp_colab(args.slug, args.ref)
        print(f"restamped {len(changed)} notebook(s) for {args.slug}@{args.ref}")
    elif args.cmd == "strip":
        changed = nbtools.strip_outputs()
        print(f"stripped {len(changed)} notebook(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
