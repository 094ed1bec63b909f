"""thematic: reproducible reflexive thematic analysis of free-text survey responses.

The package follows the stages of the project (see ``DESIGN`` in the README):
ingest -> clean -> deidentify -> codebook/coding (+ REFI-QDA exchange) -> topics/compare
(a reflexive check, never a validation) -> figures -> report.

``import thematic`` is light: heavy dependencies (torch, sentence-transformers, BERTopic,
spaCy) are imported only inside the functions that need them. Public names are loaded
on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # config & errors
    "RANDOM_STATE": "config",
    "project_paths": "config",
    "ThematicError": "errors",
    "InputError": "errors",
    "ValidationError": "errors",
    "validate": "schemas",
    "show_versions": "_versions",
    # sources: the source document
    "extract_quotes": "sources",
    "extract_context_tables": "sources",
    "build_corpus": "sources",
    "summarise_quotes": "sources",
    # ingest, clean, de-identify
    "read_export": "ingest",
    "read_exports": "ingest",
    "ingest_audit": "ingest",
    "clean_responses": "clean",
    "clean_text": "clean",
    "analysable": "clean",
    "segment": "clean",
    "is_non_answer": "clean",
    "DEFAULT_NON_ANSWERS": "clean",
    "deidentify": "deidentify",
    "deidentify_text": "deidentify",
    "drop_identifying_columns": "deidentify",
    "read_term_list": "deidentify",
    "Deidentifier": "deidentify",
    # codebook: the thematic map
    "Code": "codebook",
    "Theme": "codebook",
    "Section": "codebook",
    "Relation": "codebook",
    "Codebook": "codebook",
    "load_codebook": "codebook",
    "save_codebook": "codebook",
    "diff_codebooks": "codebook",
    "save_version": "codebook",
    "list_versions": "codebook",
    "load_version": "codebook",
    # coding: segments, summaries, several coders
    "load_codings": "coding",
    "save_codings": "coding",
    "load_responses": "coding",
    "validate_codings": "coding",
    "Report": "coding",
    "response_summary": "coding",
    "theme_counts": "coding",
    "theme_by_group": "coding",
    "cooccurrence": "coding",
    "illustrative_extracts": "coding",
    "merge_codings": "coding",
    "disagreements": "coding",
    "coder_agreement": "coding",
    "published_codings": "coding",
    "check_against_source": "coding",
    "Memo": "coding",
    "load_memos": "coding",
    # refi: REFI-QDA and Taguette exchange
    "export_qdpx": "refi",
    "export_qdc": "refi",
    "read_qdpx": "refi",
    "read_qdc": "refi",
    "read_qde": "refi",
    "import_refi": "refi",
    "validate_refi": "refi",
    "export_taguette_codebook": "refi",
    "read_taguette_codebook": "refi",
    "read_taguette_highlights": "refi",
    # topic-model check (heavy imports stay inside these modules' functions)
    "embed": "embeddings",
    "Embeddings": "embeddings",
    "SentenceEmbedder": "embeddings",
    "TfidfSvdEmbedder": "embeddings",
    "make_embedder": "embeddings",
    "verify_model_weights": "embeddings",
    "TopicModel": "topics",
    "sweep_k": "topics",
    "theme_keywords": "topics",
    "zero_shot_themes": "topics",
    "topic_check": "compare",
    "TopicCheck": "compare",
    "k_sweep": "compare",
    "permutation_test": "compare",
    "hungarian_match": "compare",
    "agreement_statistics": "compare",
    "contingency": "compare",
    "seed_stability": "compare",
    # figures and appendix
    "plot_thematic_map": "figures",
    "plot_section_map": "figures",
    "plot_theme_by_group": "figures",
    "plot_theme_topic_heatmap": "figures",
    "plot_wres_indicators": "figures",
    "plot_recovery_by_ethnic_group": "figures",
    "save_figure": "figures",
    "figure_style": "figures",
    "thematic_map_graph": "figures",
    "thematic_map_layout": "figures",
    "read_context_tables": "figures",
    "write_figures": "figures",
    "write_appendix": "report",
    "theme_extracts": "report",
    "methods_text": "report",
    "codebook_table": "report",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'thematic' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - static analysers and IDEs see the real names
    from ._versions import show_versions  # noqa: F401
    from .clean import (  # noqa: F401
        DEFAULT_NON_ANSWERS,
        analysable,
        clean_responses,
        clean_text,
        is_non_answer,
        segment,
    )
    from .codebook import (  # noqa: F401
        Code,
        Codebook,
        Relation,
        Section,
        Theme,
        diff_codebooks,
        list_versions,
        load_codebook,
        load_version,
        save_codebook,
        save_version,
    )
    from .coding import (  # noqa: F401
        Memo,
        Report,
        check_against_source,
        coder_agreement,
        cooccurrence,
        disagreements,
        illustrative_extracts,
        load_codings,
        load_memos,
        load_responses,
        merge_codings,
        published_codings,
        response_summary,
        save_codings,
        theme_by_group,
        theme_counts,
        validate_codings,
    )
    from .compare import (  # noqa: F401
        TopicCheck,
        agreement_statistics,
        contingency,
        hungarian_match,
        k_sweep,
        permutation_test,
        seed_stability,
        topic_check,
    )
    from .config import RANDOM_STATE, project_paths  # noqa: F401
    from .deidentify import (  # noqa: F401
        Deidentifier,
        deidentify,
        deidentify_text,
        drop_identifying_columns,
        read_term_list,
    )
    from .embeddings import (  # noqa: F401
        Embeddings,
        SentenceEmbedder,
        TfidfSvdEmbedder,
        embed,
        make_embedder,
        verify_model_weights,
    )
    from .errors import InputError, ThematicError, ValidationError  # noqa: F401
    from .figures import (  # noqa: F401
        figure_style,
        plot_recovery_by_ethnic_group,
        plot_section_map,
        plot_thematic_map,
        plot_theme_by_group,
        plot_theme_topic_heatmap,
        plot_wres_indicators,
        read_context_tables,
        save_figure,
        thematic_map_graph,
        thematic_map_layout,
        write_figures,
    )
    from .ingest import ingest_audit, read_export, read_exports  # noqa: F401
    from .refi import (  # noqa: F401
        export_qdc,
        export_qdpx,
        export_taguette_codebook,
        import_refi,
        read_qdc,
        read_qde,
        read_qdpx,
        read_taguette_codebook,
        read_taguette_highlights,
        validate_refi,
    )
    from .report import codebook_table, methods_text, theme_extracts, write_appendix  # noqa: F401
    from .schemas import validate  # noqa: F401
    from .sources import build_corpus, extract_context_tables, extract_quotes, summarise_quotes  # noqa: F401
    from .topics import TopicModel, sweep_k, theme_keywords, zero_shot_themes  # noqa: F401
