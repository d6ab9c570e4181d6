"""``python -m sslstudy.course sync [--check]``: copy each week README's questions section into the package."""
import argparse
import sys

from . import sync


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sslstudy.course", description=__doc__)
    parser.add_argument("command", choices=["sync"])
    parser.add_argument("--check", action="store_true", help="only report the weeks whose shipped copy differs")
    args = parser.parse_args(argv)
    differ = sync(check=args.check)
    if args.check and differ:
        print(f"questions out of step with their README: {', '.join(differ)} (run: python -m sslstudy.course sync)")
        return 1
    print(f"{'updated' if differ else 'in step'}: {', '.join(differ) or 'every week'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
