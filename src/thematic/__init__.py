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
    # the study layer: one folder per study, and the calls a researcher codes with
    "Project": "project",
    "find_study_root": "project",
    "StudySettings": "settings",
    "CodingWorkspace": "workspace",
    "prepare_export": "survey",
    "PreparedExport": "survey",
    # config & errors
    "RANDOM_STATE": "config",
    "project_paths": "config",
    "ThematicError": "errors",
    "InputError": "errors",
    "ValidationError": "errors",
    "Problem": "errors",
    "Report": "errors",
    "check_option": "errors",
    "conform": "schemas",
    "validate_table": "schemas",
    "show_versions": "_versions",
    # sources: the source document
    "extract_quotes": "sources",
    "extract_context_tables": "sources",
    "build_corpus": "sources",
    "summarise_quotes": "sources",
    # ingest, clean, de-identify
    "read_export": "ingest",
    "read_exports": "ingest",
    "clean_responses": "clean",
    "clean_text": "clean",
    "analysable": "clean",
    "segment": "clean",
    "is_non_answer": "clean",
    "DEFAULT_NON_ANSWERS": "clean",
    "deidentify_responses": "deidentify",
    "deidentify_text": "deidentify",
    "drop_identifying_columns": "deidentify",
    "read_term_list": "deidentify",
    "write_term_list": "deidentify",
    "safe_table": "deidentify",
    "pseudonymise_ids": "deidentify",
    "read_salt": "deidentify",
    "name_candidates": "deidentify",
    "confirm_names": "deidentify",
    "Deidentifier": "deidentify",
    # codebook: the thematic map
    "Code": "codebook",
    "Theme": "codebook",
    "Section": "codebook",
    "Relation": "codebook",
    "Codebook": "codebook",
    "read_codebook": "codebook",
    "write_codebook": "codebook",
    "diff_codebooks": "codebook",
    "write_version": "codebook",
    "list_versions": "codebook",
    "read_version": "codebook",
    "roll_up": "codebook",
    # coding: segments, summaries, several coders
    "group_order": "coding",
    "read_codings": "coding",
    "write_codings": "coding",
    "read_responses": "coding",
    "validate_codings": "coding",
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
    "read_memos": "coding",
    "write_memo": "coding",
    "parse_memo": "coding",
    # refi: REFI-QDA and Taguette exchange
    "write_qdpx": "refi",
    "write_qdc": "refi",
    "RefiProject": "refi",
    "RefiExport": "refi",
    "RefiImport": "refi",
    "read_qdpx": "refi",
    "read_qdc": "refi",
    "read_qde": "refi",
    "import_refi": "refi",
    "validate_refi": "refi",
    "qdpx_caveats": "refi",
    "write_taguette_codebook": "refi",
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
    "write_figure": "figures",
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


#: Submodules reachable as attributes after ``import thematic`` (``thematic.report``).
_SUBMODULES: frozenset[str] = frozenset({
    "clean", "codebook", "coding", "compare", "config", "deidentify", "embeddings", "errors",
    "examples", "figures", "ingest", "io", "project", "refi", "report", "reproduce", "schemas",
    "settings", "sources", "survey", "topics", "workspace",
})


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'thematic' has no attribute {name!r}")


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
        read_codebook,
        read_version,
        roll_up,
        write_codebook,
        write_version,
    )
    from .coding import (  # noqa: F401
        Memo,
        check_against_source,
        coder_agreement,
        cooccurrence,
        disagreements,
        group_order,
        illustrative_extracts,
        merge_codings,
        parse_memo,
        published_codings,
        read_codings,
        read_memos,
        read_responses,
        response_summary,
        theme_by_group,
        theme_counts,
        validate_codings,
        write_codings,
        write_memo,
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
        confirm_names,
        deidentify_responses,
        deidentify_text,
        drop_identifying_columns,
        name_candidates,
        pseudonymise_ids,
        read_salt,
        read_term_list,
        safe_table,
        write_term_list,
    )
    from .embeddings import (  # noqa: F401
        Embeddings,
        SentenceEmbedder,
        TfidfSvdEmbedder,
        embed,
        make_embedder,
        verify_model_weights,
    )
    from .errors import (  # noqa: F401
        InputError,
        Problem,
        Report,
        ThematicError,
        ValidationError,
        check_option,
    )
    from .figures import (  # noqa: F401
        figure_style,
        plot_recovery_by_ethnic_group,
        plot_section_map,
        plot_thematic_map,
        plot_theme_by_group,
        plot_theme_topic_heatmap,
        plot_wres_indicators,
        read_context_tables,
        thematic_map_graph,
        thematic_map_layout,
        write_figure,
        write_figures,
    )
    from .ingest import read_export, read_exports  # noqa: F401
    from .project import Project, find_study_root  # noqa: F401
    from .refi import (  # noqa: F401
        RefiExport,
        RefiImport,
        RefiProject,
        import_refi,
        qdpx_caveats,
        read_qdc,
        read_qde,
        read_qdpx,
        read_taguette_codebook,
        read_taguette_highlights,
        validate_refi,
        write_qdc,
        write_qdpx,
        write_taguette_codebook,
    )
    from .report import codebook_table, methods_text, theme_extracts, write_appendix  # noqa: F401
    from .schemas import conform, validate_table  # noqa: F401
    from .settings import StudySettings  # noqa: F401
    from .sources import build_corpus, extract_context_tables, extract_quotes, summarise_quotes  # noqa: F401
    from .survey import PreparedExport, prepare_export  # noqa: F401
    from .topics import TopicModel, theme_keywords, zero_shot_themes  # noqa: F401
    from .workspace import CodingWorkspace  # noqa: F401
