"""``thematic compare``: check the manual themes against topic models (a reflexive prompt)."""

from __future__ import annotations

from pathlib import Path

import click

from .study import open_project, project_option

__all__ = ["compare_cmd"]


@click.command("compare")
@project_option
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the full summary as JSON to this file (atomically).")
@click.option("--backend", type=click.Choice(["sentence-transformers", "static", "tfidf"]),
              default="sentence-transformers", show_default=True,
              help="Embeddings: the packaged all-MiniLM-L6-v2 (offline, verified; a GPU when "
                   "there is one), 'static' (a model2vec model distilled from it on first "
                   "use and cached; much faster for large surveys) or the torch-free "
                   "TF-IDF + SVD fallback.")
@click.option("--model", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Local sentence-transformers model directory (default: "
                   "$THEMATIC_EMBEDDING_MODEL or the packaged all-MiniLM-L6-v2).")
@click.option("--seeds", type=click.IntRange(min=1), default=10, show_default=True,
              help="Topic-model fits with different seeds (stability).")
@click.option("--permutations", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Label permutations of the chance baseline.")
@click.option("--k", type=click.IntRange(min=2), default=None,
              help="Number of topics (default: the number of themes).")
def compare_cmd(project: Path | None, json_out: Path | None, backend: str, model: Path | None,
                seeds: int, permutations: int, k: int | None) -> None:
    """Check the study's themes against BERTopic topic models.

    Fits a topic model to the study's analysable responses (excluded rows left out) with
    SEEDS seeds, compares its topics with the themes of the study's codings, and reports
    each agreement statistic against a permutation baseline and across seeds. Topics are
    topic summaries, not themes: the result is a prompt for re-reading, not a validation.
    """
    from ..compare import topic_check
    from ..errors import InputError

    study = open_project(project)
    if not study.paths.responses.is_file():
        raise InputError("no responses in the study yet: import them with "
                         "`thematic clean EXPORT --project DIR`", path=study.paths.responses)
    if not study.codings_files():
        raise InputError("no codings in the study yet: code responses first",
                         path=study.paths.codings)
    # every row goes in so that the result counts the excluded ones (n_excluded);
    # topic_check models only the analysable ones, with their codings
    result = topic_check(study.responses, study.codings(analysable=True), study.codebook,
                         backend=backend, embedding_model=model, n_seeds=seeds,
                         n_permutations=permutations, k=k, cache_dir=study.paths.cache,
                         random_state=study.settings.random_state, unit=study.settings.unit)
    click.echo(result.summary())
    if json_out is not None:
        result.to_json(json_out)
        click.echo(f"wrote {json_out}")
