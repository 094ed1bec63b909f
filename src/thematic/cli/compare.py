"""``thematic compare``: check the manual themes against topic models (a reflexive prompt)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["compare_cmd"]


@click.command("compare")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the full summary as JSON to this file (atomically).")
@click.option("--backend", type=click.Choice(["sentence-transformers", "tfidf"]),
              default="sentence-transformers", show_default=True,
              help="Embeddings: the packaged all-MiniLM-L6-v2 (offline, verified) or the "
                   "torch-free TF-IDF + SVD fallback.")
@click.option("--model", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Local sentence-transformers model directory (default: "
                   "$THEMATIC_EMBEDDING_MODEL or the packaged all-MiniLM-L6-v2).")
@click.option("--seeds", type=click.IntRange(min=1), default=10, show_default=True,
              help="Topic-model fits with different seeds (stability).")
@click.option("--permutations", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Label permutations of the chance baseline.")
@click.option("--k", type=click.IntRange(min=2), default=None,
              help="Number of topics (default: the number of themes).")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project root (default: found from the working directory).")
def compare_cmd(json_out: Path | None, backend: str, model: Path | None, seeds: int,
                permutations: int, k: int | None, root: Path | None) -> None:
    """Check the themes in corpus/coding/ against BERTopic topic models.

    Fits a topic model to corpus/processed/responses.csv with SEEDS seeds, compares its
    topics with the themes of corpus/coding/codings.csv, and reports each agreement
    statistic against a permutation baseline and across seeds. Topics are topic
    summaries, not themes: the result is a prompt for re-reading, not a validation.
    """
    from ..compare import load_project, topic_check
    from ..config import project_paths

    paths = project_paths(root)
    responses, codings, codebook = load_project(paths.root)
    result = topic_check(responses, codings, codebook, backend=backend, model=model,
                         n_seeds=seeds, n_permutations=permutations, k=k,
                         cache_dir=paths.cache)
    click.echo(result.summary())
    if json_out is not None:
        result.to_json(json_out)
        click.echo(f"wrote {json_out}")
