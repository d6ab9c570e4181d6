"""Command line: ``python -m sslstudy {run,course,data,export,colab-links,strip,slides,site,train}``."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["train"]:                          # its own options: python -m sslstudy train --help
        from . import scale

        return scale.main(argv[1:])
    p = argparse.ArgumentParser(prog="python -m sslstudy", description="The course's command line.")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="execute one notebook with papermill parameters (e.g. -p mode full)")
    r.add_argument("notebook")
    r.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[])
    r.add_argument("-o", "--output", default=None, help="executed copy (default build/<same path>)")
    c = sub.add_parser("course", help="execute every notebook (or one week) into build/ and print a table")
    c.add_argument("--week", default=None)
    c.add_argument("--notebooks", nargs="+", metavar="GLOB", default=None,
                   help="only these notebooks: paths or glob patterns from the repository root, "
                        "e.g. 'notebooks/00_*.ipynb' 'notebooks/_template*.ipynb'")
    c.add_argument("--out", default=None, metavar="DIR",
                   help="folder for the executed copies, records/ and course_results.{md,json} (default build/)")
    c.add_argument("--timeout", type=int, default=900, metavar="SECONDS", help="per-cell time limit (default 900)")
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
    sl = sub.add_parser("slides", help="the presenter's route and slide metadata of every notebook")
    sl.add_argument("--stamp", action="store_true", help="give every cell a slide type (headings → slides)")
    sl.add_argument("--html", metavar="WEEK", default=None,
                    help="write WEEK's reveal.js decks from its executed notebooks into build/slides/WEEK")
    st = sub.add_parser("site", help="build the course website from the executed notebooks into build/site")
    st.add_argument("--notebooks", nargs="+", metavar="GLOB", default=None, help="only these notebooks")
    st.add_argument("--executed", default=None, metavar="DIR", help="where the executed copies are (default build/)")
    st.add_argument("--out", default=None, metavar="DIR", help="default build/site (the site is DIR/site)")
    st.add_argument("--no-execute", action="store_true", help="fail instead of running a notebook without a "
                                                              "current executed copy")
    sub.add_parser("train", help="train a method for real, on one GPU or many under torchrun "
                                 "(python -m sslstudy train --help)")
    args = p.parse_args(argv)

    from . import nbtools

    if args.cmd == "run":
        try:
            out, secs, head = nbtools.run_notebook(args.notebook, nbtools.parse_params(args.parameter), args.output)
        except nbtools.NotebookFailed as f:
            print(f.report(), file=sys.stderr)
            return 1
        print(f"executed {args.notebook} in {secs:.0f} s → {out}" + (f"\n{head}" if head else ""))
    elif args.cmd == "course":
        try:
            if args.list:
                nbs = nbtools.select_notebooks(args.notebooks) if args.notebooks else nbtools.course_notebooks()
                print("\n".join(nbtools._rel(n) for n in nbs))
                return 0
            rows = nbtools.run_course(args.week, nbtools.parse_params(args.parameter), timeout=args.timeout,
                                      notebooks=args.notebooks, build=args.out)
        except ValueError as e:  # a --week or --notebooks that matches nothing: one sentence, no traceback
            print(e, file=sys.stderr)
            return 2
        return 1 if any(r["status"] != "ok" for r in rows) else 0
    elif args.cmd == "data":
        from . import data

        for name in args.download:
            data.load(name, "train", download=True)
        for row in data.report():
            print(f"{row['dataset']:14s} {'found  ' if row['found'] else 'MISSING'} {row['where']}")
    elif args.cmd == "export":
        from . import course

        drift = nbtools.export_all(check=args.check)
        verb = "differ from their notebooks" if args.check else "written"
        print(f"{len(drift)} module(s) {verb}" + "".join(f"\n  {d}" for d in drift))
        qdrift = course.sync(check=args.check)   # the week READMEs' questions, shipped with the package
        verb = "differ from their READMEs" if args.check else "copied"
        print(f"{len(qdrift)} question list(s) {verb}" + "".join(f"\n  {d}" for d in qdrift))
        return 1 if (args.check and (drift or qdrift)) else 0
    elif args.cmd == "colab-links":
        changed = nbtools.restamp_colab(args.slug, args.ref)
        print(f"restamped {len(changed)} notebook(s) for {args.slug}@{args.ref}")
    elif args.cmd == "strip":
        changed = nbtools.strip_outputs()
        print(f"stripped {len(changed)} notebook(s)")
    elif args.cmd == "site":
        from . import site

        try:
            path = site.build(args.notebooks, args.executed, args.out, execute=not args.no_execute)
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
        print(f"site built and checked: {path} (open {path / 'index.html'})")
    elif args.cmd == "slides" and args.html:
        from . import site

        try:
            paths = site.slides(args.html)
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
        print("\n".join(f"slides: {p}" for p in paths))
    elif args.cmd == "slides":
        from . import slides

        bad = 0
        for nb in nbtools.course_notebooks():
            if args.stamp:
                slides.stamp(nb)
            for problem in slides.problems(nb):
                bad += 1
                print(f"{nb.relative_to(nbtools.root())}: {problem}")
        print(f"{len(nbtools.course_notebooks())} notebook(s), {bad} problem(s)")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
