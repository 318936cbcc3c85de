"""The synthetic graph's command: `python -m bench.generate --out DIR` writes it as CSV files that
`kb load` reads (bench/synthetic.py). It belongs to the benchmarks, not to the product."""
from __future__ import annotations

from pathlib import Path

import click

from bench import synthetic
from kb.cli import reports_errors


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--entities", type=click.IntRange(min=100), default=200_000, show_default=True,
              help="Entities to generate.")
@click.option("--relations", type=click.IntRange(min=100), default=1_000_000, show_default=True,
              help="Relations to generate.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed: the same seed, the same graph.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the CSV files.")
@reports_errors
def main(entities, relations, seed, out):
    """Write a synthetic graph shaped like the domain, as CSV files `kb load` reads."""
    summary = synthetic.generate(entities=entities, relations=relations, seed=seed, out=out)
    click.echo(f"Wrote {summary['entities']} entities and {summary['relations']} relations (seed {seed}) to {out}")


if __name__ == "__main__":
    main()
