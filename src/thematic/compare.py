"""Compare the manual themes with topic models: a reflexive prompt, not a validation.

In reflexive thematic analysis themes are constructed by the researcher as patterns of
shared meaning around a central organising concept; a topic model groups responses by
surface similarity and summarises the groups by words (a *topic summary*). Agreement
between the two is therefore not evidence that the themes are "correct", and treating it
as inter-rater reliability imports the coding-reliability logic that Braun & Clarke warn
against (2019, 2021). What a comparison *can* do is point at extracts and groupings worth
re-reading. To keep it honest at small n, every agreement figure here comes with

- a **chance baseline**: the same statistic under ``n_permutations`` random permutations
  of the theme labels across documents (topics fixed), giving the null mean and sd and a
  permutation p-value ``(1 + #{null >= observed}) / (1 + n_permutations)``, with the
  Monte-Carlo standard errors of both (stated in the summary and JSON for large n);
- a **stability estimate**: the topic model refitted with ``n_seeds`` seeds
  (``random_state, random_state + 1, ...``), giving the mean and sd of each statistic,
  the agreement of the topic partitions with one another, and a per-extract consistency.

Definitions
-----------
Documents and themes
    A response may carry several themes. The theme x topic contingency table counts
    document-theme pairs (a document x theme indicator matrix times the topic indicator
    matrix). The single-label statistics (adjusted Rand, adjusted mutual information,
    homogeneity, completeness, V-measure; :mod:`sklearn.metrics`) need one theme per
    document: ``multi_label="first"`` (default) takes the theme of the coded segment that
    starts first in the response (ties: codebook order); ``"drop"`` leaves multi-theme
    documents out; ``"duplicate"`` repeats a document once per theme. Responses without
    any theme are embedded and modelled but left out of every comparison.
Matched F1
    Topics are matched one-to-one to themes by the Hungarian algorithm
    (:func:`scipy.optimize.linear_sum_assignment`) maximising matched document-theme
    pairs; per theme, precision = pairs / topic size, recall = pairs / theme size; a theme
    left without a topic (more themes than topics) has F1 0. ``matched_f1`` is the mean
    F1 over themes.
Extract consistency
    For each extract and each pair of seeds, the Jaccard overlap of the sets of extracts
    it shares a topic with in the two fits (1 if both sets are empty); averaged over seed
    pairs. 1 = always the same partners.
Neighbour agreement
    For each extract, its topic neighbours are the other extracts weighted by the fraction
    of seeds in which they share its topic; ``same_theme_share`` is the weighted share of
    neighbours that carry one of its themes. Below 0.5 the extract's neighbours "mostly
    carry other themes".
Scale
    Nothing here allocates an n x n array: extract consistency and neighbour agreement
    are computed from contingency tables and label counts (O(n) memory), and the
    permutations are drawn and counted in bounded chunks. Only analysable responses
    (``exclude`` false) are modelled.
Topic coverage / theme recovery
    A topic is covered by a theme when more than half of its documents carry that theme
    (reference seed). A theme is recovered in a fit when it covers at least one topic;
    ``recovery_rate`` is the fraction of seeds in which it is; below 0.5 it is listed as
    not recovered.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from .config import RANDOM_STATE
from .errors import InputError, Problem, ValidationError, check_option

__all__ = [
    "STATISTICS",
    "MULTI_LABEL_RULES",
    "TopicCheck",
    "theme_table",
    "theme_indicator",
    "contingency",
    "agreement_statistics",
    "hungarian_match",
    "permutation_test",
    "seed_stability",
    "extract_consistency",
    "neighbour_agreement",
    "k_sweep",
    "topic_check",
]

#: Statistics computed for every fit, in report order.
STATISTICS: tuple[str, ...] = (
    "adjusted_rand",
    "adjusted_mutual_info",
    "homogeneity",
    "completeness",
    "v_measure",
    "matched_f1",
)

#: Rules for documents with several themes in single-label statistics.
MULTI_LABEL_RULES: tuple[str, ...] = ("first", "drop", "duplicate")


# --------------------------------------------------------------------------- inputs


def theme_table(codebook: Any) -> pd.DataFrame:
    """Return the themes of a codebook as a table, in codebook order.

    Parameters
    ----------
    codebook : thematic.codebook.Codebook or pandas.DataFrame
        A codebook (its ``themes()`` and ``section_of``), or a table with columns
        ``theme`` (or ``id``), ``name`` and optionally ``definition``, ``section``.

    Returns
    -------
    pandas.DataFrame
        ``theme, name, definition, section``.
    """
    if isinstance(codebook, pd.DataFrame):
        df = codebook.rename(columns={"id": "theme"}).copy()
        if "theme" not in df or "name" not in df:
            raise InputError("a theme table needs columns 'theme' (or 'id') and 'name'")
        for col in ("definition", "section"):
            if col not in df:
                df[col] = ""
    elif hasattr(codebook, "themes"):
        rows = []
        for th in codebook.themes():
            try:
                sec = codebook.section_of(th.id)
                section = getattr(sec, "name", str(sec))
            except (AttributeError, KeyError):
                section = ""
            rows.append({"theme": th.id, "name": th.name,
                         "definition": getattr(th, "definition", "") or "", "section": section})
        df = pd.DataFrame(rows, columns=["theme", "name", "definition", "section"])
    else:
        raise InputError("codebook must be a thematic Codebook or a DataFrame of themes")
    df = df[["theme", "name", "definition", "section"]].astype("string").fillna("")
    dup = df["theme"][df["theme"].duplicated()].tolist()
    if dup:
        raise InputError(f"duplicate theme ids in the codebook: {sorted(set(dup))}")
    if len(df) < 2:
        raise InputError(f"a topic check needs at least 2 themes, the codebook has {len(df)}")
    return df.reset_index(drop=True)


def _theme_lookup(codebook: Any, ids: set[str]) -> dict[str, str | None]:
    """Code -> the theme it counts for: the codebook's one roll-up rule, or the theme ids."""
    if hasattr(codebook, "theme_map"):  # thematic.codebook.Codebook: one rule everywhere
        return {k: v[0] for k, v in codebook.theme_map().items()}
    return {t: t for t in ids}  # a table of themes: codes are theme ids


def theme_indicator(
    response_ids: Sequence[str], codings: pd.DataFrame, codebook: Any
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Document x theme indicator matrix and each document's first theme.

    Parameters
    ----------
    response_ids : sequence of str
        The documents, in order.
    codings : pandas.DataFrame
        ``response_id, code`` (and ``start`` to order segments); codes are theme ids or,
        with a :class:`~thematic.codebook.Codebook`, any of its ids, rolled up by
        :meth:`~thematic.codebook.Codebook.theme_map` (segments of codes outside every
        theme count for no theme).
    codebook : Codebook or pandas.DataFrame
        See :func:`theme_table`.

    Returns
    -------
    themes : list of str
        Theme ids (columns), codebook order.
    indicator : numpy.ndarray
        ``(n_documents, n_themes)`` bool.
    first : numpy.ndarray
        Column index of each document's first theme (``-1`` if it has none).

    Raises
    ------
    ValidationError
        Listing every coding whose code is not in the codebook or whose response is not
        among the documents.
    """
    table = theme_table(codebook)
    themes = table["theme"].tolist()
    ids = set(themes)
    col = {t: j for j, t in enumerate(themes)}
    row = {r: i for i, r in enumerate(response_ids)}
    missing = [c for c in ("response_id", "code") if c not in codings.columns]
    if missing:
        raise InputError(f"codings lack column(s) {missing}")
    df = codings.reset_index(drop=True)
    starts = (pd.to_numeric(df["start"], errors="coerce").fillna(0).to_numpy()
              if "start" in df else np.zeros(len(df)))
    problems = []
    best: dict[int, tuple[float, int]] = {}
    indicator = np.zeros((len(row), len(themes)), dtype=bool)
    lookup = _theme_lookup(codebook, ids)
    for k, (rid, code) in enumerate(zip(df["response_id"], df["code"], strict=True)):
        where = f"codings row {k + 2}"
        if str(code) not in lookup:
            problems.append(Problem("unknown_code", f"code {code!r} is not in the codebook",
                                    where))
            continue
        theme = lookup[str(code)]
        if theme is None:  # a code not (yet) under a theme, or a section: counts for none
            continue
        i = row.get(str(rid))
        if i is None:
            problems.append(Problem("unknown_response", f"response {rid!r} is not in the responses",
                                    where))
            continue
        j = col[theme]
        indicator[i, j] = True
        key = (float(starts[k]), j)
        if i not in best or key < best[i]:
            best[i] = key
    if problems:
        raise ValidationError("codings", problems)
    first = np.full(len(row), -1, dtype=np.int64)
    for i, (_, j) in best.items():
        first[i] = j
    return themes, indicator, first


def _pairs(indicator: np.ndarray, first: np.ndarray, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """(document index, theme index) pairs for single-label statistics under ``rule``."""
    if rule == "first":
        docs = np.flatnonzero(first >= 0)
        return docs, first[docs]
    if rule == "drop":
        docs = np.flatnonzero(indicator.sum(axis=1) == 1)
        return docs, indicator[docs].argmax(axis=1)
    check_option("multi_label", rule, MULTI_LABEL_RULES)
    d, t = np.nonzero(indicator)
    return d, t


# --------------------------------------------------------------------------- statistics


def contingency(indicator: np.ndarray, topics: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Theme x topic counts of document-theme pairs.

    Parameters
    ----------
    indicator : numpy.ndarray
        ``(n_documents, n_themes)`` bool.
    topics : numpy.ndarray
        Topic of each document.

    Returns
    -------
    table : numpy.ndarray
        ``(n_themes, n_topics)`` int counts.
    topic_ids : numpy.ndarray
        The topic of each column (sorted; ``-1`` first if present).
    """
    topics = np.asarray(topics)
    topic_ids, inv = np.unique(topics, return_inverse=True)
    onehot = np.zeros((len(topics), len(topic_ids)), dtype=np.int64)
    onehot[np.arange(len(topics)), inv] = 1
    return indicator.astype(np.int64).T @ onehot, topic_ids


def hungarian_match(table: np.ndarray, topic_sizes: np.ndarray | None = None) -> pd.DataFrame:
    """Match topics one-to-one to themes maximising matched pairs; per-theme P/R/F1.

    Parameters
    ----------
    table : numpy.ndarray
        ``(n_themes, n_topics)`` counts (:func:`contingency`).
    topic_sizes : numpy.ndarray, optional
        Documents per topic (default: column sums of ``table``, which equal the topic
        sizes when every document has exactly one theme).

    Returns
    -------
    pandas.DataFrame
        One row per theme (table row order): ``theme_index, topic_index`` (-1 if
        unmatched), ``n_theme, n_topic, n_both, precision, recall, f1``.
    """
    table = np.asarray(table, dtype=np.int64)
    sizes = table.sum(axis=0) if topic_sizes is None else np.asarray(topic_sizes)
    keys = ("theme_index", "topic_index", "n_theme", "n_topic", "n_both", "precision",
            "recall", "f1")
    return pd.DataFrame([dict(zip(keys, row, strict=True)) for row in _match_rows(table, sizes)])


def _match_rows(table: np.ndarray, sizes: np.ndarray) -> list[tuple[Any, ...]]:
    """Hungarian-match themes (rows) to topics; one tuple per theme.

    Each is ``(t, k, n_theme, n_topic, both, precision, recall, f1)``, with ``k = -1`` for
    an unmatched theme.
    """
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(table, maximize=True)
    match = dict(zip(rows.tolist(), cols.tolist(), strict=True))
    out = []
    for t in range(table.shape[0]):
        n_theme = int(table[t].sum())
        k = match.get(t, -1)
        both = int(table[t, k]) if k >= 0 else 0
        n_topic = int(sizes[k]) if k >= 0 else 0
        p = both / n_topic if n_topic else 0.0
        r = both / n_theme if n_theme else 0.0
        out.append((t, k, n_theme, n_topic, both, p, r, 2 * p * r / (p + r) if p + r else 0.0))
    return out


def agreement_statistics(
    indicator: np.ndarray,
    first: np.ndarray,
    topics: np.ndarray,
    *,
    multi_label: str = "first",
) -> dict[str, float]:
    """Agreement between themes and topics (see :data:`STATISTICS`).

    Parameters
    ----------
    indicator : numpy.ndarray
        ``(n_documents, n_themes)`` bool.
    first : numpy.ndarray
        First theme of each document (``-1``: none).
    topics : numpy.ndarray
        Topic of each document (``-1`` outliers count as one more topic).
    multi_label : {"first", "drop", "duplicate"}
        Single-label rule for multi-theme documents.

    Returns
    -------
    dict
        Statistic name -> value.
    """
    from sklearn import metrics

    topics = np.asarray(topics)
    docs, th = _pairs(indicator, first, multi_label)
    pred = topics[docs]
    if len(docs) < 2:
        raise InputError("fewer than 2 coded documents to compare")
    h, c, v = metrics.homogeneity_completeness_v_measure(th, pred)
    table, topic_ids = contingency(indicator, topics)
    sizes = np.array([(topics == k).sum() for k in topic_ids])
    f1 = hungarian_match(table, sizes)["f1"].mean()
    return {
        "adjusted_rand": float(metrics.adjusted_rand_score(th, pred)),
        "adjusted_mutual_info": float(metrics.adjusted_mutual_info_score(th, pred)),
        "homogeneity": float(h),
        "completeness": float(c),
        "v_measure": float(v),
        "matched_f1": float(f1),
    }


def _single_labels(indicator: np.ndarray, first: np.ndarray, rule: str) -> np.ndarray:
    """Each document's single label under ``rule`` (``-1``: left out); not for "duplicate"."""
    if rule == "first":
        return np.asarray(first, dtype=np.int64)
    check_option("multi_label", rule, ("first", "drop"))
    single = indicator.sum(axis=1) == 1
    return np.where(single, indicator.argmax(axis=1), -1).astype(np.int64)


def _entropy_of_counts(counts: np.ndarray) -> float:
    """:func:`sklearn.metrics.cluster._supervised._entropy` from the label counts.

    The counts must be those of the labels present, in sorted label order (the order in
    which scikit-learn counts them), so that the result is bit-identical.
    """
    pi = counts.astype(np.float64)
    if pi.size == 1:
        return 0.0
    pi_sum = np.sum(pi)
    return float(-np.sum((pi / pi_sum) * (np.log(pi) - math.log(pi_sum))))


def _mutual_info_of_table(c: np.ndarray) -> float:
    """:func:`sklearn.metrics.mutual_info_score` of a compact contingency table (same steps)."""
    nzx, nzy = np.nonzero(c)
    nz_val = c[nzx, nzy]
    contingency_sum = c.sum()
    pi = np.ravel(c.sum(axis=1))
    pj = np.ravel(c.sum(axis=0))
    if pi.size == 1 or pj.size == 1:
        return 0.0
    log_contingency_nm = np.log(nz_val)
    contingency_nm = nz_val / contingency_sum
    outer = pi.take(nzx).astype(np.int64, copy=False) * pj.take(nzy).astype(np.int64, copy=False)
    log_outer = -np.log(outer) + math.log(pi.sum()) + math.log(pj.sum())
    mi = (contingency_nm * (log_contingency_nm - math.log(contingency_sum))
          + contingency_nm * log_outer)
    mi = np.where(np.abs(mi) < np.finfo(mi.dtype).eps, 0.0, mi)
    return float(np.clip(mi.sum(), 0.0, None))


def _matched_f1(table: np.ndarray, sizes: np.ndarray) -> float:
    """``hungarian_match(table, sizes)["f1"].mean()`` without building the table."""
    f1 = [row[-1] for row in _match_rows(table, sizes)]
    return float(np.asarray(f1, dtype=np.float64).sum() / len(f1))


def _statistics_from_tables(
    single: np.ndarray, multi: np.ndarray, sizes: np.ndarray, emi_memo: dict[bytes, float]
) -> list[float]:
    """Compute the :data:`STATISTICS` from contingency tables as :func:`agreement_statistics`.

    ``single`` is the theme x topic table of the single-label pairs, ``multi`` that of all
    document-theme pairs and ``sizes`` the topic sizes. Every step follows scikit-learn's
    (integer pair counts for the adjusted Rand, the same summation order for entropies and
    mutual information), so the values are identical to the label-based functions;
    ``tests/test_compare.py`` checks that on random tables. The expected mutual information
    depends only on the margins and is memoised on them.
    """
    from sklearn.metrics.cluster._expected_mutual_info_fast import expected_mutual_information

    rows = single.sum(axis=1)
    cols = single.sum(axis=0)
    c = single[rows > 0][:, cols > 0]
    a, b = rows[rows > 0], cols[cols > 0]
    n = int(a.sum())
    # adjusted Rand (sklearn.metrics.cluster.pair_confusion_matrix, integer arithmetic)
    sum_squares = int((c ** 2).sum())
    fp = int((c * b[None, :]).sum()) - sum_squares
    fn = int((c * a[:, None]).sum()) - sum_squares
    tp = sum_squares - n
    tn = n * n - fp - fn - sum_squares
    if fn == 0 and fp == 0:
        ari = 1.0
    else:
        ari = 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
    # homogeneity, completeness, V-measure
    h_true, h_pred = _entropy_of_counts(a), _entropy_of_counts(b)
    mi = _mutual_info_of_table(c)
    hom = mi / h_true if h_true else 1.0
    com = mi / h_pred if h_pred else 1.0
    v = 0.0 if hom + com == 0.0 else (1 + 1.0) * hom * com / (1.0 * hom + com)
    # adjusted mutual information (arithmetic normalisation)
    if len(a) == len(b) == 1 or len(a) == len(b) == 0:
        ami = 1.0
    elif len(a) == 1 or len(b) == 1:
        ami = 0.0
    else:
        key = a.tobytes() + b"|" + b.tobytes()
        if key not in emi_memo:
            emi_memo[key] = float(expected_mutual_information(c, np.int64(n)))
        emi = emi_memo[key]
        normalizer = np.mean([h_true, h_pred])
        den = normalizer - emi
        eps = np.finfo("float64").eps
        den = min(den, -eps) if den < 0 else max(den, eps)
        num = mi - emi
        num = min(num, -eps) if num < 0 else max(num, eps)
        ami = float(num / den)
    return [float(ari), float(ami), float(hom), float(com), float(v),
            _matched_f1(multi, sizes)]


#: Upper bound on permutation-matrix elements held at once (chunks of permutations).
_PERMUTATION_CHUNK_ELEMENTS: int = 1 << 23


def _null_statistics(
    indicator: np.ndarray,
    first: np.ndarray,
    topics: np.ndarray,
    n_permutations: int,
    random_state: int | np.random.Generator | None,
    multi_label: str,
    progress: bool = False,
) -> np.ndarray:
    """``(n_permutations, len(STATISTICS))`` null values, vectorised over permutations.

    The permutations are drawn as rows of an ``(m, n)`` int32 matrix in chunks of ``m``
    (``Generator.permuted`` on rows gives exactly the permutations that successive
    ``Generator.permutation(n)`` calls give), at most :data:`_PERMUTATION_CHUNK_ELEMENTS`
    elements at a time, so memory is bounded whatever ``n`` and ``n_permutations``. For
    each chunk the contingency tables of every permutation are counted with one
    ``bincount``; the statistics are then computed from the small tables.
    """
    ind = np.asarray(indicator, dtype=bool)
    n, n_themes = ind.shape
    topic_ids, tidx = np.unique(np.asarray(topics), return_inverse=True)
    tidx = tidx.reshape(-1).astype(np.int64)
    k = len(topic_ids)
    sizes = np.bincount(tidx, minlength=k)
    cells = n_themes * k
    ds, js = np.nonzero(ind)
    labels = None if multi_label == "duplicate" else _single_labels(ind, first, multi_label)
    # one theme per document and it is the single label: both tables are the same
    one_table = (labels is not None and bool((ind.sum(axis=1) == 1).all())
                 and bool((labels == ind.argmax(axis=1)).all()))
    rng = np.random.default_rng(random_state)
    dtype = np.int32 if n < 2**31 else np.int64
    base = np.arange(n, dtype=dtype)
    chunk = max(1, min(int(n_permutations), _PERMUTATION_CHUNK_ELEMENTS // max(n, 1)))
    out = np.empty((int(n_permutations), len(STATISTICS)))
    memo: dict[bytes, float] = {}
    starts = range(0, int(n_permutations), chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="permutations", unit="chunk")
    for start in starts:
        m = min(chunk, int(n_permutations) - start)
        perms = rng.permuted(np.tile(base, (m, 1)), axis=1)
        offset = (np.arange(m, dtype=np.int64) * cells)[:, None]
        if labels is not None:
            lab = labels[perms]
            valid = lab >= 0
            codes = (offset + lab * k + tidx[None, :])[valid]
            single = np.bincount(codes, minlength=m * cells).reshape(m, n_themes, k)
            del lab, valid, codes
        if one_table:
            multi = single
        else:
            # where each source document lands: position of document s in permutation b
            pos = np.empty_like(perms)
            np.put_along_axis(pos, perms, base[None, :].repeat(m, axis=0), axis=1)
            topic_at = tidx[pos[:, ds]] if len(ds) else np.zeros((m, 0), dtype=np.int64)
            multi = np.bincount((offset + js[None, :] * k + topic_at).ravel(),
                                minlength=m * cells).reshape(m, n_themes, k)
            del pos, topic_at
            if labels is None:
                single = multi
        del perms
        for b in range(m):
            out[start + b] = _statistics_from_tables(single[b], multi[b], sizes, memo)
    return out


def _monte_carlo_se(p_values: np.ndarray, null_sd: np.ndarray, n_permutations: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Monte-Carlo standard errors of permutation p-values and of the null means."""
    b = max(int(n_permutations), 1)
    p = np.asarray(p_values, dtype=float)
    return np.sqrt(p * (1 - p) / b), np.asarray(null_sd, dtype=float) / math.sqrt(b)


def permutation_test(
    indicator: np.ndarray,
    first: np.ndarray,
    topics: np.ndarray,
    *,
    n_permutations: int = 1000,
    random_state: int = RANDOM_STATE,
    multi_label: str = "first",
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chance baseline: every statistic under random permutations of the theme labels.

    The theme labels (rows of ``indicator`` with ``first``) are permuted across
    documents while the topics stay fixed; this keeps the theme sizes and the topic
    partition and removes any association between them.

    The permutations are those of successive ``numpy.random.default_rng(random_state)
    .permutation(n)`` calls, drawn in chunks as an int32 matrix (memory bounded whatever
    ``n``); each permutation's statistics are computed from its contingency tables with
    scikit-learn's own arithmetic, so the null distribution is identical to applying
    :func:`agreement_statistics` to every permuted labelling.

    Parameters
    ----------
    indicator, first, topics : numpy.ndarray
        As for :func:`agreement_statistics`.
    n_permutations : int
        Number of permutations (>= 1; use >= 1000 for reporting).
    random_state : int
        Seed of the permutations.
    multi_label : str
        Single-label rule.
    progress : bool
        Progress bar over chunks of permutations.

    Returns
    -------
    summary : pandas.DataFrame
        ``statistic, observed, null_mean, null_sd, p_value, n_permutations,
        p_value_mc_se, null_mean_mc_se``; the p-value is
        ``(1 + #{null >= observed}) / (1 + n_permutations)`` (one-sided: more agreement
        than chance); the last two are Monte-Carlo standard errors,
        ``sqrt(p (1 - p) / n_permutations)`` and ``null_sd / sqrt(n_permutations)``.
    null : pandas.DataFrame
        ``permutation, statistic, value``: the null distribution.
    """
    if int(n_permutations) < 1:
        raise InputError(f"n_permutations must be >= 1, not {n_permutations}")
    observed = agreement_statistics(indicator, first, topics, multi_label=multi_label)
    null = _null_statistics(indicator, first, topics, int(n_permutations), random_state,
                            multi_label, progress)
    obs = np.array([observed[k] for k in STATISTICS])
    # tolerance: permutations reproducing the observed labelling tie with it exactly
    ge = (null >= obs - 1e-12).sum(axis=0)
    p_values = (1 + ge) / (1 + len(null))
    null_sd = null.std(axis=0, ddof=1) if len(null) > 1 else np.zeros(len(obs))
    p_se, mean_se = _monte_carlo_se(p_values, null_sd, len(null))
    summary = pd.DataFrame(
        {
            "statistic": list(STATISTICS),
            "observed": obs,
            "null_mean": null.mean(axis=0),
            "null_sd": null_sd,
            "p_value": p_values,
            "n_permutations": np.int64(len(null)),
            "p_value_mc_se": p_se,
            "null_mean_mc_se": mean_se,
        }
    )
    long = pd.DataFrame(null, columns=list(STATISTICS))
    long.insert(0, "permutation", np.arange(len(null), dtype=np.int64))
    long = long.melt(id_vars="permutation", var_name="statistic", value_name="value")
    return summary, long


def _dense_labels(p: np.ndarray) -> tuple[np.ndarray, int]:
    """Labels renumbered ``0..k-1`` (in sorted order) and ``k``."""
    ids, inv = np.unique(np.asarray(p), return_inverse=True)
    return inv.reshape(-1).astype(np.int64), len(ids)


def _joint_counts(a: np.ndarray, ka: int, b: np.ndarray, kb: int) -> np.ndarray:
    """For each document, how many documents share both its label in ``a`` and in ``b``.

    One contingency table of the two labellings (``ka x kb`` cells when that is small,
    else the distinct pairs only): O(n) memory.
    """
    code = a * kb + b
    if ka * kb <= max(4 * len(a), 1 << 16):
        return np.bincount(code, minlength=ka * kb)[code]
    _, inv, counts = np.unique(code, return_inverse=True, return_counts=True)
    return counts[inv.reshape(-1)]


def extract_consistency(partitions: np.ndarray) -> np.ndarray:
    """Per-document partner stability across fits.

    Parameters
    ----------
    partitions : numpy.ndarray
        ``(n_fits, n_documents)`` topic labels.

    Returns
    -------
    numpy.ndarray
        For each document, the mean over pairs of fits of the Jaccard overlap of the
        sets of documents sharing its topic (itself excluded; 1 when both are empty).
        ``nan`` with fewer than 2 fits.

    Notes
    -----
    Computed from label counts, never from document x document matrices: for a document
    with topic ``s`` in fit ``a`` and ``t`` in fit ``b``, the intersection of its partner
    sets holds ``N_ab[s, t] - 1`` documents (``N_ab`` the contingency table of the two
    fits) and the union ``(size_a[s] - 1) + (size_b[t] - 1) - intersection``. Memory is
    O(n), time O(n x pairs of fits); the integers are exactly those of the pairwise
    definition.
    """
    parts = np.asarray(partitions)
    if parts.ndim != 2:
        raise InputError(f"partitions must be (n_fits, n_documents), not shape {parts.shape}")
    n_fits, n = parts.shape
    if n_fits < 2:
        return np.full(n, np.nan)
    dense = [_dense_labels(p) for p in parts]
    partners = [np.bincount(lab, minlength=k)[lab] - 1 for lab, k in dense]
    total = np.zeros(n)
    for a, b in combinations(range(n_fits), 2):
        inter = _joint_counts(dense[a][0], dense[a][1], dense[b][0], dense[b][1]) - 1
        union = partners[a] + partners[b] - inter
        total += np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return total / math.comb(n_fits, 2)


def _near(by_pattern: np.ndarray, patterns: np.ndarray, block: int = 1024) -> np.ndarray:
    """``topics x theme sets``: documents of the topic whose themes meet each theme set.

    ``by_pattern @ meets`` with ``meets[q, r]`` true when theme sets ``q`` and ``r``
    intersect, built in blocks of columns so that memory stays
    O(theme sets x block).
    """
    out = np.empty_like(by_pattern)
    for lo in range(0, len(patterns), block):
        meets = ((patterns @ patterns[lo:lo + block].T) > 0).astype(np.int64)
        out[:, lo:lo + block] = by_pattern @ meets
    return out


def neighbour_agreement(partitions: np.ndarray, indicator: np.ndarray) -> pd.DataFrame:
    """How far each document's topic neighbours (across fits) share its themes.

    Parameters
    ----------
    partitions : numpy.ndarray
        ``(n_fits, n_documents)`` topic labels.
    indicator : numpy.ndarray
        ``(n_documents, n_themes)`` bool.

    Returns
    -------
    pandas.DataFrame
        One row per document: ``neighbour_weight`` (expected number of topic neighbours
        per fit), ``same_theme_share`` (weighted share of neighbours carrying one of its
        themes; ``nan`` if it never has a neighbour), ``main_other_theme_index`` (the
        other theme its neighbours carry most, ``-1`` if none) and
        ``main_other_theme_share``.

    Notes
    -----
    A neighbour ``j`` of document ``i`` has weight ``c_ij / n_fits``, ``c_ij`` the number
    of fits in which they share a topic. Every sum over ``j`` is a sum over fits of
    counts within ``i``'s topic: topic sizes (the weight), topic x theme counts (the
    theme mass) and topic x theme-set counts (neighbours sharing a theme, through the
    distinct sets of themes and which of them intersect). Memory is O(n x themes), never
    n x n; counts are exact integers, divided by ``n_fits`` at the end.
    """
    parts = np.asarray(partitions)
    ind = np.asarray(indicator, dtype=bool)
    if parts.ndim != 2 or ind.ndim != 2 or parts.shape[1] != ind.shape[0]:
        raise InputError(f"partitions {parts.shape} and indicator {ind.shape} do not match")
    n_fits, n = parts.shape
    n_themes = ind.shape[1]
    patterns, pattern = np.unique(ind, axis=0, return_inverse=True)
    pattern = pattern.reshape(-1).astype(np.int64)
    n_patterns = len(patterns)
    p64 = patterns.astype(np.int64)
    has_theme = ind.any(axis=1).astype(np.int64)
    weight_n = np.zeros(n, dtype=np.int64)
    same_n = np.zeros(n, dtype=np.int64)
    mass_n = np.zeros((n, n_themes), dtype=np.int64)
    for p in parts:
        lab, k = _dense_labels(p)
        weight_n += np.bincount(lab, minlength=k)[lab] - 1
        by_pattern = np.bincount(lab * n_patterns + pattern,
                                 minlength=k * n_patterns).reshape(k, n_patterns)
        same_n += _near(by_pattern, p64)[lab, pattern] - has_theme
        by_theme = np.stack([np.bincount(lab[ind[:, t]], minlength=k) for t in range(n_themes)],
                            axis=1) if n_themes else np.zeros((k, 0), dtype=np.int64)
        mass_n += by_theme[lab]
    mass_n -= n_fits * ind.astype(np.int64)
    weight = weight_n / n_fits
    positive = weight > 0
    safe = np.where(positive, weight, 1)
    same = np.where(positive, (same_n / n_fits) / safe, np.nan)
    theme_mass = mass_n / n_fits
    theme_mass[ind] = -1.0
    if n_themes:
        other = theme_mass.argmax(axis=1)
        other_share = np.where(positive, theme_mass[np.arange(n), other] / safe, np.nan)
        other = np.where(theme_mass.max(axis=1) > 0, other, -1)
    else:
        other = np.full(n, -1)
        other_share = np.full(n, np.nan)
    return pd.DataFrame({"neighbour_weight": weight, "same_theme_share": same,
                         "main_other_theme_index": other.astype(np.int64),
                         "main_other_theme_share": np.where(other >= 0, other_share, np.nan)})


def seed_stability(values: pd.DataFrame) -> pd.DataFrame:
    """Mean, sd, min and max of each statistic over seeds.

    Parameters
    ----------
    values : pandas.DataFrame
        ``seed, statistic, value`` (one row per seed and statistic).

    Returns
    -------
    pandas.DataFrame
        ``statistic, seed_mean, seed_sd, seed_min, seed_max, n_seeds`` (sd with ddof 1;
        0 for one seed), in :data:`STATISTICS` order.
    """
    g = values.groupby("statistic", sort=False)["value"]
    out = pd.DataFrame({
        "seed_mean": g.mean(),
        "seed_sd": g.std(ddof=1).fillna(0.0),
        "seed_min": g.min(),
        "seed_max": g.max(),
        "n_seeds": g.size().astype("int64"),
    })
    order = [s for s in STATISTICS if s in out.index] + [s for s in out.index
                                                          if s not in STATISTICS]
    return out.loc[order].rename_axis("statistic").reset_index()


# --------------------------------------------------------------------------- result


def _plural(unit: str) -> str:
    """``"response"`` -> ``"responses"``, ``"study"`` -> ``"studies"``."""
    u = str(unit)
    return u[:-1] + "ies" if u.endswith("y") and u[-2:-1] not in "aeiou" else u + "s"


def _clean(x: Any, ndigits: int) -> Any:
    """JSON-ready copy with floats rounded (NaN -> None) and numpy scalars unwrapped."""
    if isinstance(x, dict):
        return {str(k): _clean(v, ndigits) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v, ndigits) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if math.isnan(v) or math.isinf(v):
            return None
        v = round(v, ndigits)
        return 0.0 if v == 0 else v
    if x is None or x is pd.NA:
        return None
    return str(x) if not isinstance(x, str) else x


@dataclass
class TopicCheck:
    """Everything :func:`topic_check` computed, as tidy tables.

    Attributes
    ----------
    n_documents : int
        Coded documents compared.
    n_responses : int
        Responses embedded and modelled.
    n_multi_theme : int
        Compared documents carrying more than one theme.
    multi_label : str
        Single-label rule for them.
    backend : str
        Embedding backend label.
    model : str
        Topic model description (reference seed).
    k : int
        Topics asked for (k-means) or found (HDBSCAN, reference seed).
    seeds : list of int
        ``random_state`` of each fit; ``seeds[0]`` is the reference fit.
    n_permutations : int
        Permutations of the chance baseline.
    random_state : int
        Seed of the permutations.
    themes : pandas.DataFrame
        ``theme, name, definition, section, n_documents``.
    statistics : pandas.DataFrame
        One row per statistic: ``observed`` (reference seed), ``null_mean, null_sd,
        p_value, n_permutations`` (chance baseline) and ``seed_mean, seed_sd, seed_min,
        seed_max, n_seeds`` (stability).
    seed_statistics : pandas.DataFrame
        ``seed, statistic, value``.
    null : pandas.DataFrame
        ``permutation, statistic, value``.
    partition_agreement : dict
        Adjusted Rand between the topic partitions of every pair of seeds:
        ``mean, sd, min, max, n_pairs``.
    assignments : pandas.DataFrame
        Schema ``topics``: every response x seed.
    contingency : pandas.DataFrame
        ``theme, topic, n`` (reference seed; document-theme pairs).
    matching : pandas.DataFrame
        Hungarian matching (reference seed): ``theme, name, topic, n_theme, n_topic,
        n_both, precision, recall, f1``, plus ``f1_seed_mean``, ``f1_seed_sd``.
    topic_words : pandas.DataFrame
        ``topic, rank, word, weight`` (reference seed).
    theme_keywords : pandas.DataFrame
        ``theme, rank, word, weight`` (manual mode c-TF-IDF).
    zero_shot : pandas.DataFrame
        Per extract (:func:`thematic.topics.zero_shot_themes`).
    zero_shot_summary : dict
        ``min_similarity, n_assigned, n_on_own_theme, n_nearest_is_own,
        expected_nearest_is_own_by_chance``.
    extracts : pandas.DataFrame
        Per compared extract: ``response_id, themes, topic`` (reference),
        ``consistency, neighbour_weight, same_theme_share, main_other_theme,
        main_other_theme_share, text``.
    topics : pandas.DataFrame
        Per topic (reference seed): ``topic, size, top_theme, top_share, covered,
        words``.
    theme_recovery : pandas.DataFrame
        Per theme: ``theme, name, recovery_rate, recovered``.
    disagreements : pandas.DataFrame
        The reading list: ``kind`` (``extract_neighbours_other_themes``,
        ``topic_without_majority_theme``, ``theme_not_recovered``), ``subject`` (extract,
        topic or theme), ``response_id, themes, topic, score, text``.
    model_sha256 : str or None
        SHA-256 of the embedding model's weights (of the distilled weights for the
        static backend).
    params : dict
        Settings of the topic model and, for the static backend, of the distillation.
    device : str
        Where the embeddings were computed (``"cpu"``, ``"cuda"``, ``"mps"``).
    reduction : str
        Dimensionality reduction of the topic model (``"umap"``, ``"pca"``, ``"none"``).
    warnings : list of str
        What the reader must know (fewer topics than ``k`` formed, codings of excluded
        responses left out).
    n_excluded : int
        Responses dropped because ``exclude`` is true.
    monte_carlo : pandas.DataFrame or None
        ``statistic, p_value_mc_se, null_mean_mc_se``: Monte-Carlo standard errors of
        the permutation p-values and chance means.
    large_n : int
        Above this many compared documents the summary and the JSON state the
        Monte-Carlo errors.
    unit : str
        What one document is called in the summary (a study's ``settings.unit``:
        ``"extract"`` for published extracts, ``"response"`` for survey responses);
        default the neutral ``"document"``. The JSON's keys do not depend on it.
    fits_from_cache : int
        How many of the seeds' fits were read from the fit cache rather than fitted
        (the results are the same either way; not part of the JSON or the summary).
    """

    n_documents: int
    n_responses: int
    n_multi_theme: int
    multi_label: str
    backend: str
    model: str
    clustering: str
    k: int
    seeds: list[int]
    n_permutations: int
    random_state: int
    themes: pd.DataFrame
    statistics: pd.DataFrame
    seed_statistics: pd.DataFrame
    null: pd.DataFrame
    partition_agreement: dict[str, float]
    assignments: pd.DataFrame
    contingency: pd.DataFrame
    matching: pd.DataFrame
    topic_words: pd.DataFrame
    theme_keywords: pd.DataFrame
    zero_shot: pd.DataFrame
    zero_shot_summary: dict[str, Any]
    extracts: pd.DataFrame
    topics: pd.DataFrame
    theme_recovery: pd.DataFrame
    disagreements: pd.DataFrame
    model_sha256: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    reduction: str = "umap"
    warnings: list[str] = field(default_factory=list)
    n_excluded: int = 0
    monte_carlo: pd.DataFrame | None = None
    large_n: int = 20_000
    unit: str = "document"
    fits_from_cache: int = 0

    @property
    def units(self) -> str:
        """Plural of :attr:`unit` (``"responses"``)."""
        return _plural(self.unit)

    def _states_monte_carlo(self) -> bool:
        return self.monte_carlo is not None and self.n_documents > int(self.large_n)

    def statistic(self, name: str, column: str = "observed") -> float:
        """One number of :attr:`statistics` (``observed``, ``p_value``, ``seed_mean``...)."""
        row = self.statistics.loc[self.statistics["statistic"] == name]
        if row.empty:
            raise KeyError(f"no statistic {name!r}; known: {list(self.statistics['statistic'])}")
        return float(row[column].iloc[0])

    def contingency_table(self, labels: str = "name", *, words: int = 3) -> pd.DataFrame:
        """Theme x topic counts as a wide table (rows themes, columns topics).

        Parameters
        ----------
        labels : {"name", "id"}
            Row labels: theme names or ids.
        words : int
            Topic columns are labelled ``"<topic>: w1, w2, ..."`` with this many c-TF-IDF
            words (0: the topic number only). Columns are ordered by the theme they are
            matched to (Hungarian), unmatched topics last.

        Returns
        -------
        pandas.DataFrame
            Integer counts of document-theme pairs.
        """
        wide = self.contingency.pivot(index="theme", columns="topic", values="n").fillna(0)
        wide = wide.reindex(self.themes["theme"].tolist()).fillna(0).astype("int64")
        matched = [int(t) for t in self.matching["topic"].dropna().tolist() if int(t) in wide]
        order = list(dict.fromkeys(matched + [int(t) for t in wide.columns]))
        wide = wide[order]
        names = dict(zip(self.themes["theme"], self.themes["name"], strict=True))
        if labels == "name":
            wide.index = [names[t] for t in wide.index]
        wide.index.name = "theme"
        tw = self.topic_words.sort_values(["topic", "rank"])
        top = tw.groupby("topic")["word"].apply(lambda s: ", ".join(s.head(words)))
        wide.columns = [
            f"{t}: {top.get(t, '')}" if words and t in top.index else str(t) for t in wide.columns
        ]
        wide.columns.name = "topic"
        return wide

    def summary(self) -> str:
        """Return a short plain-text summary (what the command line prints)."""
        s = self.statistics.set_index("statistic")
        on = f" on {self.device}" if self.device != "cpu" else ""
        lines = [
            f"Topic check ({self.backend}{on}; {self.model}): {self.n_documents} coded "
            f"{self.units}, {len(self.themes)} themes, k = {self.k}.",
            "A reflexive prompt, not a validation: agreement is reported against chance "
            "and across seeds.",
            f"{'statistic':<22}{'observed':>9}{'chance':>16}{'p':>8}{'seeds mean (sd)':>20}",
        ]
        for name in STATISTICS:
            r = s.loc[name]
            lines.append(
                f"{name:<22}{r['observed']:>9.3f}{r['null_mean']:>9.3f} ± {r['null_sd']:.3f}"
                f"{r['p_value']:>8.3f}{r['seed_mean']:>12.3f} ({r['seed_sd']:.3f})"
            )
        pa = self.partition_agreement
        lines.append(
            f"Topic partitions across {len(self.seeds)} seeds agree with each other at "
            f"adjusted Rand {pa['mean']:.3f} (sd {pa['sd']:.3f}); "
            f"{self.n_permutations} permutations."
        )
        if self._states_monte_carlo():
            mc = self.monte_carlo.set_index("statistic")
            lines.append(
                f"Monte-Carlo error of the baseline ({self.n_permutations} permutations): "
                f"p-values ± {mc['p_value_mc_se'].max():.2g}, chance means "
                f"± {mc['null_mean_mc_se'].max():.2g} (largest standard errors)."
            )
        z = self.zero_shot_summary
        lines.append(
            f"Zero-shot (definitions, similarity >= {z['min_similarity']}): "
            f"{z['n_on_own_theme']}/{self.n_documents} on their own theme; nearest definition "
            f"is their own for {z['n_nearest_is_own']} (chance ~{z['expected_nearest_is_own_by_chance']:.1f})."
        )
        counts = self.disagreements.drop_duplicates(["kind", "subject"])["kind"].value_counts()
        lines.append(
            "Reading list: "
            f"{int(counts.get('extract_neighbours_other_themes', 0))} {self.units} whose "
            "topic neighbours mostly carry other themes, "
            f"{int(counts.get('topic_without_majority_theme', 0))} topics without a majority "
            f"theme, {int(counts.get('theme_not_recovered', 0))} themes no topic recovers."
        )
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_dict(self, ndigits: int = 6) -> dict[str, Any]:
        """JSON-ready summary (floats rounded to ``ndigits``; deterministic).

        Returns
        -------
        dict
            ``n_documents, n_responses, backend, model, clustering, k, seeds,
            adjusted_rand, adjusted_mutual_info, statistics`` (observed per statistic),
            ``chance`` (``n_permutations, random_state, mean, sd, p_value`` per
            statistic), ``seed_stability`` (``n_seeds, seeds, mean, sd, min, max`` per
            statistic, ``partition_agreement``, ``extract_consistency_mean``),
            ``matching``, ``zero_shot``, ``disagreements``, ``note``, ``device``,
            ``reduction``, ``n_excluded`` and ``warnings``; above ``large_n`` compared
            documents ``chance`` also holds ``monte_carlo_se`` (``p_value`` and ``mean``
            per statistic).
        """
        s = self.statistics.set_index("statistic")

        def per(col: str) -> dict[str, float]:
            return {k: float(s.loc[k, col]) for k in STATISTICS}

        dis = self.disagreements
        ex = dis[dis["kind"] == "extract_neighbours_other_themes"]
        tp = self.topics[~self.topics["covered"]]
        th = self.theme_recovery[~self.theme_recovery["recovered"]]
        out = {
            "note": "Topic-model check of the manual themes: a reflexive prompt, not a "
                    "validation. Topics are topic summaries, not themes.",
            "n_documents": self.n_documents,
            "n_responses": self.n_responses,
            "n_themes": int(len(self.themes)),
            "n_multi_theme": self.n_multi_theme,
            "multi_label": self.multi_label,
            "backend": self.backend,
            "model_sha256": self.model_sha256,
            "model": self.model,
            "clustering": self.clustering,
            "reduction": self.reduction,
            "device": self.device,
            "n_excluded": self.n_excluded,
            "warnings": list(self.warnings),
            "k": self.k,
            "params": self.params,
            "adjusted_rand": float(s.loc["adjusted_rand", "observed"]),
            "adjusted_mutual_info": float(s.loc["adjusted_mutual_info", "observed"]),
            "statistics": per("observed"),
            "chance": {
                "n_permutations": self.n_permutations,
                "random_state": self.random_state,
                "mean": per("null_mean"),
                "sd": per("null_sd"),
                "p_value": per("p_value"),
            },
            "seed_stability": {
                "n_seeds": len(self.seeds),
                "seeds": list(self.seeds),
                "mean": per("seed_mean"),
                "sd": per("seed_sd"),
                "min": per("seed_min"),
                "max": per("seed_max"),
                "partition_agreement": dict(self.partition_agreement),
                "extract_consistency_mean": float(self.extracts["consistency"].mean()),
            },
            "matching": [
                {"theme": r.theme, "topic": None if pd.isna(r.topic) else int(r.topic),
                 "precision": r.precision, "recall": r.recall, "f1": r.f1,
                 "f1_seed_mean": r.f1_seed_mean}
                for r in self.matching.itertuples()
            ],
            "zero_shot": dict(self.zero_shot_summary),
            "disagreements": {
                "extracts_neighbours_other_themes": [
                    {"response_id": r.response_id, "themes": r.themes,
                     "same_theme_share": r.score}
                    for r in ex.itertuples()
                ],
                "topics_without_majority_theme": [
                    {"topic": int(r.topic), "size": int(r.size), "top_theme": r.top_theme,
                     "top_share": r.top_share}
                    for r in tp.itertuples()
                ],
                "themes_not_recovered": [
                    {"theme": r.theme, "recovery_rate": r.recovery_rate}
                    for r in th.itertuples()
                ],
            },
        }
        if self._states_monte_carlo():
            mc = self.monte_carlo.set_index("statistic")
            out["chance"]["monte_carlo_se"] = {
                "p_value": {k: float(mc.loc[k, "p_value_mc_se"]) for k in STATISTICS},
                "mean": {k: float(mc.loc[k, "null_mean_mc_se"]) for k in STATISTICS},
            }
        return _clean(out, ndigits)

    def to_json(self, path: str | os.PathLike[str] | None = None, ndigits: int = 6) -> str:
        """Deterministic JSON of :meth:`to_dict`; written atomically to ``path`` if given."""
        text = json.dumps(self.to_dict(ndigits), indent=2, sort_keys=True, ensure_ascii=False)
        text += "\n"
        if path is not None:
            from .io import atomic_write_text

            atomic_write_text(path, text)
        return text


# --------------------------------------------------------------------------- the check


def _responses_frame(responses: pd.DataFrame) -> pd.DataFrame:
    """``response_id, text, exclude`` of the non-empty responses (``exclude`` coerced)."""
    from .schemas import coerce_flags

    missing = [c for c in ("response_id", "text") if c not in responses.columns]
    if missing:
        raise InputError(f"responses lack column(s) {missing}")
    cols = ["response_id", "text"] + (["exclude"] if "exclude" in responses.columns else [])
    df = responses[cols].copy()
    if "exclude" in df:
        # a cleaned table read back from CSV holds "True"/"False" strings; anything else
        # that is not a boolean is an error naming the row
        df["exclude"] = coerce_flags(df[["exclude"]], source="responses")["exclude"]
    else:
        df["exclude"] = False
    df["response_id"] = df["response_id"].astype("string")
    df = df[df["text"].notna() & (df["text"].astype("string").str.strip() != "")]
    dup = df["response_id"][df["response_id"].duplicated()].tolist()
    if dup:
        raise InputError(f"duplicate response ids: {sorted(set(dup))[:5]}")
    return df.reset_index(drop=True)


def _analysable(
    responses: pd.DataFrame, codings: pd.DataFrame, embeddings: Any, messages: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, Any, int]:
    """Drop excluded responses (and their codings, and their rows of ``embeddings``)."""
    from .embeddings import Embeddings

    resp = _responses_frame(responses)
    keep = ~resp["exclude"].to_numpy(dtype=bool)
    n_excluded = int((~keep).sum())
    if isinstance(embeddings, Embeddings) and n_excluded and len(embeddings) == len(resp):
        embeddings = Embeddings(embeddings.vectors[keep], embeddings.backend,
                                embeddings.model_sha256, embeddings.n_cached,
                                embeddings.embedder, embeddings.device)
    if n_excluded:
        gone = set(resp.loc[~keep, "response_id"].tolist())
        on_excluded = codings["response_id"].astype("string").isin(gone).to_numpy(dtype=bool)
        if on_excluded.any():
            n_resp = codings.loc[on_excluded, "response_id"].nunique()
            messages.append(f"{int(on_excluded.sum())} coding(s) of {n_resp} excluded "
                            "response(s) were left out of the comparison")
            codings = codings.loc[~on_excluded]
        resp = resp.loc[keep].reset_index(drop=True)
    if len(resp) < 4:
        raise InputError(f"only {len(resp)} analysable responses with text; need at least 4")
    return resp, codings, embeddings, n_excluded


def _partition_ari(parts: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score

    vals = [adjusted_rand_score(parts[a], parts[b]) for a, b in combinations(range(len(parts)), 2)]
    if not vals:
        return {"mean": float("nan"), "sd": float("nan"), "min": float("nan"),
                "max": float("nan"), "n_pairs": 0}
    v = np.array(vals)
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max()), "n_pairs": len(v)}


def _params(model: Any, n: int, zero_shot_min_similarity: float) -> dict[str, Any]:
    """Collect the settings a reader needs to repeat the check (reported in the JSON)."""
    from .topics import MINIBATCH_KMEANS, default_min_cluster_size, default_n_neighbors

    reduction = getattr(model, "reduction_", model.reduce)
    clustering = getattr(model, "clustering_", model.clustering)
    out: dict[str, Any] = {"reduce": reduction}
    if reduction == "umap":
        out.update({
            "umap_n_neighbors": int(model.n_neighbors or default_n_neighbors(n)),
            "umap_n_components": int(max(2, min(model.n_components, n - 2))),
            "umap_min_dist": 0.0,
            "umap_metric": "cosine",
        })
    elif reduction == "pca":
        out.update({"pca_n_components": int(max(2, min(model.n_components, n - 2))),
                    "pca_svd_solver": "randomized"})
    out["vectorizer"] = (f"CountVectorizer(stop_words={model.stop_words!r}, "
                         f"min_df={model.min_df})")
    out["zero_shot_min_similarity"] = float(zero_shot_min_similarity)
    if clustering == "kmeans":
        out["kmeans_n_init"] = 10
    elif clustering == "minibatch-kmeans":
        out.update({f"minibatch_kmeans_{k}": v for k, v in MINIBATCH_KMEANS.items()})
    elif clustering == "hdbscan":
        out["hdbscan_min_cluster_size"] = int(model.min_cluster_size
                                              or default_min_cluster_size(n))
    else:
        est = model.clustering
        out["cluster_model"] = repr(est)
    if model.large_n is not None and n > int(model.large_n):
        out["large_n"] = int(model.large_n)
    return out


def _topic_template(model: Any, k: int, clustering: str, large_n: int | None) -> Any:
    """Return the :class:`~thematic.topics.TopicModel` to clone for every seed."""
    from sklearn.base import clone

    from .topics import TopicModel

    if model is None:
        return TopicModel(k, clustering=clustering, large_n=large_n)
    if isinstance(model, TopicModel):
        template = clone(model)
        if template.n_topics is None and template.clustering == "kmeans":
            template.set_params(n_topics=k)
        return template
    if not (hasattr(model, "fit") and hasattr(model, "get_params")):
        raise InputError("model must be a thematic TopicModel or a scikit-learn style "
                         f"clusterer (fit, get_params, labels_), not {type(model).__name__}")
    return TopicModel(k, clustering=clone(model), large_n=large_n)


def _check_unit(unit: Any) -> str:
    if not isinstance(unit, str) or not unit.strip() or not unit.strip().isprintable():
        raise InputError(f"unit must be a word such as 'response', not {unit!r}")
    return unit


def _fewer_topics(fits: Sequence[Any], seeds: Sequence[int]) -> str | None:
    """Return a warning when some fit formed fewer topics than it was asked for."""
    short = [(s, f.n_topics_, f.n_topics_requested_) for s, f in zip(seeds, fits, strict=True)
             if f.n_topics_requested_ is not None and f.n_topics_ < f.n_topics_requested_]
    if not short:
        return None
    k = short[0][2]
    formed = ", ".join(f"{n} (seed {s})" for s, n, _ in short[:5])
    more = f" and {len(short) - 5} more" if len(short) > 5 else ""
    return (f"fewer topics than k = {k} formed in {len(short)} of {len(fits)} seeds: "
            f"{formed}{more} topics; the texts (or their embeddings) may not hold that many "
            "distinct groups - read the agreement figures with that in mind")


@dataclass
class _CheckData:
    """The analysable, coded responses of a topic check, with their themes and embeddings."""

    table: pd.DataFrame
    themes: list[str]
    ind: np.ndarray
    first: np.ndarray
    coded: np.ndarray
    docs: list[str]
    rids: list[Any]
    embeddings: Any
    n_excluded: int

    @property
    def names(self) -> dict[str, str]:
        """Return the theme names by theme id."""
        return dict(zip(self.table["theme"], self.table["name"], strict=True))


def _check_topic_options(n_seeds: int, multi_label: str, unit: Any, model: Any) -> None:
    """Raise :class:`InputError` for a bad option of :func:`topic_check`."""
    if int(n_seeds) < 1:
        raise InputError(f"n_seeds must be >= 1, not {n_seeds}")
    check_option("multi_label", multi_label, MULTI_LABEL_RULES)
    _check_unit(unit)
    if isinstance(model, (str, os.PathLike)):
        raise InputError(f"model= is the topic model, not a path ({model!r}); pass a local "
                         "sentence-transformers model as embedding_model=")


def _check_data(
    responses: pd.DataFrame, codings: pd.DataFrame, codebook: Any, embeddings: Any,
    messages: list[str], *, backend: str, embedding_model: str | os.PathLike[str] | None,
    cache_dir: str | os.PathLike[str] | None, progress: bool, random_state: int,
) -> _CheckData:
    """Return the analysable responses' themes and embeddings (embedded if not given)."""
    from .embeddings import Embeddings, embed

    resp, codings, embeddings, n_excluded = _analysable(responses, codings, embeddings,
                                                        messages)
    table = theme_table(codebook)
    themes, indicator_all, first_all = theme_indicator(resp["response_id"].tolist(), codings,
                                                       codebook)
    coded = np.flatnonzero(indicator_all.any(axis=1))
    if len(coded) < 4:
        raise InputError(f"only {len(coded)} responses carry a theme; need at least 4")
    ind, first = indicator_all[coded], first_all[coded]
    docs = resp["text"].astype(str).tolist()
    rids = resp["response_id"].tolist()
    if embeddings is None:
        embeddings = embed(docs, backend=backend, model=embedding_model, cache_dir=cache_dir,
                           progress=progress, random_state=random_state)
    elif not isinstance(embeddings, Embeddings) or len(embeddings) != len(docs):
        raise InputError("embeddings must be an Embeddings object for the responses' texts")
    return _CheckData(table, themes, ind, first, coded, docs, rids, embeddings, n_excluded)


def _data_key(docs: Sequence[str], embeddings: Any) -> str:
    """Digest of the documents and their vectors, the data part of a fit-cache key."""
    from ._fitcache import digest_array, digest_texts
    from .topics import _vectors

    vectors = _vectors(embeddings, len(docs))
    backend = getattr(embeddings, "backend", "precomputed")
    return f"{digest_texts(docs)}:{digest_array(vectors)}:{backend}"


def _fit_one(template: Any, seed: int, docs: list[str], embeddings: Any, cache: Any,
             data_key: str | None) -> Any:
    """Fit a clone of ``template`` with ``seed``, or read that fit from ``cache``."""
    from sklearn.base import clone

    from .topics import TopicModel

    tm = clone(template).set_params(random_state=seed)
    params = (tm._cache_params() if cache is not None and data_key is not None
              and isinstance(tm, TopicModel) else None)
    if params is None:
        return tm.fit(docs, embeddings=embeddings)
    key = cache.key("fit", data=data_key, params=params)
    state = cache.load_arrays(key)
    if state is not None:
        try:
            return tm._restore_fit(state, embeddings)
        except (KeyError, ValueError, TypeError):
            pass  # an entry of another layout: fit again and replace it
    tm.fit(docs, embeddings=embeddings)
    cache.save_arrays(key, tm._fit_state())
    return tm


def _fit_seeds(
    template: Any, seeds: list[int], d: _CheckData, progress: bool, cache: Any
) -> tuple[list[Any], list[pd.DataFrame]]:
    """Fit (or read from ``cache``) a clone of ``template`` per seed, with assignments."""
    fits, frames = [], []
    iterator: Iterable[int] = seeds
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(seeds, desc="seeds")
    data_key = _data_key(d.docs, d.embeddings) if cache is not None else None
    for seed in iterator:
        tm = _fit_one(template, seed, d.docs, d.embeddings, cache, data_key)
        fits.append(tm)
        frames.append(tm.topics_frame(d.rids))
    return fits, frames


def _chance_and_stability(
    d: _CheckData, parts: np.ndarray, seeds: list[int], *, multi_label: str,
    n_permutations: int, random_state: int, progress: bool,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return the statistics, the per-seed values, the null and its Monte-Carlo errors."""
    seed_rows = []
    for seed, p in zip(seeds, parts, strict=True):
        for name, v in agreement_statistics(d.ind, d.first, p, multi_label=multi_label).items():
            seed_rows.append({"seed": seed, "statistic": name, "value": v})
    seed_stats = pd.DataFrame(seed_rows)
    chance, null = permutation_test(d.ind, d.first, parts[0], n_permutations=n_permutations,
                                    random_state=random_state, multi_label=multi_label,
                                    progress=progress)
    mc_cols = ["p_value_mc_se", "null_mean_mc_se"]
    monte_carlo = chance[["statistic", *mc_cols]].copy()
    stats = chance.drop(columns=mc_cols).merge(seed_stability(seed_stats), on="statistic",
                                               how="left")
    return stats, seed_stats, null, monte_carlo


def _seed_f1(ind: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Return the matched F1 of every theme (columns) in every seed's fit (rows)."""
    f1_seeds = []
    for p in parts:
        t, ids_ = contingency(ind, p)
        f1_seeds.append(hungarian_match(t, np.array([(p == x).sum() for x in ids_]))["f1"].to_numpy())
    return np.array(f1_seeds)


def _contingency_and_matching(
    d: _CheckData, parts: np.ndarray, seeds: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Return the reference contingency table, topic ids and sizes, its long form and matching."""
    themes = d.themes
    ctab, topic_ids = contingency(d.ind, parts[0])
    sizes = np.array([(parts[0] == t).sum() for t in topic_ids])
    cont = pd.DataFrame(
        [{"theme": themes[i], "topic": int(topic_ids[j]), "n": int(ctab[i, j])}
         for i in range(len(themes)) for j in range(len(topic_ids))]
    )
    match = hungarian_match(ctab, sizes)
    f1_seeds = _seed_f1(d.ind, parts)
    names = d.names
    matching = pd.DataFrame({
        "theme": themes,
        "name": [names[t] for t in themes],
        "topic": pd.array([int(topic_ids[j]) if j >= 0 else pd.NA for j in match["topic_index"]],
                          dtype="Int64"),
        "n_theme": match["n_theme"], "n_topic": match["n_topic"], "n_both": match["n_both"],
        "precision": match["precision"], "recall": match["recall"], "f1": match["f1"],
        "f1_seed_mean": f1_seeds.mean(axis=0),
        "f1_seed_sd": f1_seeds.std(axis=0, ddof=1) if len(seeds) > 1 else np.zeros(len(themes)),
    })
    return ctab, topic_ids, sizes, cont, matching


def _topic_table(
    ref: Any, ctab: np.ndarray, topic_ids: np.ndarray, sizes: np.ndarray, themes: list[str]
) -> pd.DataFrame:
    """Return the reference fit's topics with their largest theme, its share and top words."""
    topic_rows = []
    tw = ref.topic_words_.sort_values(["topic", "rank"])
    words = tw.groupby("topic")["word"].apply(lambda s: ", ".join(s.head(5)))
    for j, t in enumerate(topic_ids):
        col = ctab[:, j]
        top = int(col.argmax())
        share = col[top] / sizes[j] if sizes[j] else 0.0
        topic_rows.append({"topic": int(t), "size": int(sizes[j]), "top_theme": themes[top],
                           "top_share": float(share), "covered": bool(share > 0.5),
                           "words": words.get(int(t), "")})
    return pd.DataFrame(topic_rows)


def _theme_recovery(d: _CheckData, parts: np.ndarray) -> pd.DataFrame:
    """Return each theme's recovery rate: the share of seeds in which it covers a topic."""
    themes = d.themes
    recovered = np.zeros(len(themes))
    for p in parts:
        t, ids_ = contingency(d.ind, p)
        sz = np.array([(p == x).sum() for x in ids_])
        covers = t / np.maximum(sz, 1) > 0.5
        recovered += covers.any(axis=1)
    rate = recovered / len(parts)
    names = d.names
    return pd.DataFrame({"theme": themes, "name": [names[t] for t in themes],
                         "recovery_rate": rate, "recovered": rate >= 0.5})


def _extract_table(
    d: _CheckData, parts: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Return the per-extract table, with the extracts' texts and joined theme ids."""
    themes = d.themes
    cons = extract_consistency(parts)
    nb = neighbour_agreement(parts, d.ind)
    texts = np.array(d.docs, dtype=object)[d.coded]
    theme_str = ["; ".join(themes[j] for j in np.flatnonzero(row)) for row in d.ind]
    extracts = pd.DataFrame({
        "response_id": [d.rids[i] for i in d.coded],
        "themes": theme_str,
        "topic": parts[0].astype("int64"),
        "consistency": cons,
        "neighbour_weight": nb["neighbour_weight"],
        "same_theme_share": nb["same_theme_share"],
        "main_other_theme": [themes[j] if j >= 0 else None for j in nb["main_other_theme_index"]],
        "main_other_theme_share": nb["main_other_theme_share"],
        "text": texts,
    })
    return extracts, texts, theme_str


def _reading_list(
    d: _CheckData, extracts: pd.DataFrame, topics_df: pd.DataFrame, recovery: pd.DataFrame,
    texts: np.ndarray, theme_str: list[str],
) -> pd.DataFrame:
    """Return the extracts worth re-reading, with why (``kind``) and about what (``subject``)."""
    dis = []
    low = extracts[extracts["same_theme_share"].fillna(0.0) < 0.5]
    low = low.sort_values(["same_theme_share", "response_id"], na_position="first")
    for r in low.itertuples():
        dis.append({"kind": "extract_neighbours_other_themes", "subject": r.response_id,
                    "response_id": r.response_id, "themes": r.themes, "topic": r.topic,
                    "score": r.same_theme_share, "text": r.text})
    for r in topics_df[~topics_df["covered"]].itertuples():
        for e in extracts[extracts["topic"] == r.topic].itertuples():
            dis.append({"kind": "topic_without_majority_theme", "subject": str(r.topic),
                        "response_id": e.response_id, "themes": e.themes, "topic": e.topic,
                        "score": r.top_share, "text": e.text})
    ex_ids = extracts["response_id"].tolist()
    ex_topics = extracts["topic"].tolist()
    for r in recovery[~recovery["recovered"]].itertuples():
        for i in np.flatnonzero(d.ind[:, d.themes.index(r.theme)]).tolist():
            dis.append({"kind": "theme_not_recovered", "subject": r.theme,
                        "response_id": ex_ids[i], "themes": theme_str[i], "topic": ex_topics[i],
                        "score": r.recovery_rate, "text": texts[i]})
    return pd.DataFrame(
        dis, columns=["kind", "subject", "response_id", "themes", "topic", "score", "text"]
    )


def _keywords_and_zero_shot(
    d: _CheckData, extracts: pd.DataFrame, texts: np.ndarray, min_similarity: float,
    cache: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Return BERTopic's manual-mode theme keywords, the zero-shot table and its summary."""
    from ._fitcache import digest_array, digest_texts
    from .embeddings import Embeddings
    from .topics import theme_keywords, zero_shot_themes

    themes, table, embeddings = d.themes, d.table, d.embeddings
    labels_lists = [[themes[j] for j in np.flatnonzero(row)] for row in d.ind]
    # every response coded (a large survey coded in full): a view, not a copy of the vectors
    every = len(d.coded) == len(embeddings.vectors)
    sub = Embeddings(embeddings.vectors if every else embeddings.vectors[d.coded],
                     embeddings.backend, embeddings.model_sha256, 0, embeddings.embedder,
                     embeddings.device)
    definitions = {
        t: (f"{n}. {dfn}" if dfn else n)
        for t, n, dfn in zip(table["theme"], table["name"], table["definition"], strict=True)
    }
    rids = extracts["response_id"].tolist()
    kw_key = zs_key = None
    keywords = zs = None
    if cache is not None:
        docs_key = digest_texts(texts)
        kw_key = cache.key("keywords", docs=docs_key, labels=labels_lists)
        zs_key = cache.key(
            "zero-shot", docs=docs_key, vectors=digest_array(np.asarray(sub.vectors)),
            backend=sub.backend, weights=sub.model_sha256, device=sub.device,
            embedder=getattr(sub.embedder, "settings_", None), themes=definitions,
            min_similarity=float(min_similarity), ids=digest_texts(map(str, rids)),
            own=labels_lists)
        keywords, zs = cache.load_table(kw_key), cache.load_table(zs_key)
    if keywords is None:
        # c-TF-IDF words do not depend on the embeddings: none are passed (memory at large n)
        keywords = theme_keywords(list(texts), labels_lists)
        if cache is not None:
            cache.save_table(kw_key, keywords)
    if zs is None:
        zs = zero_shot_themes(list(texts), definitions, sub, min_similarity=min_similarity,
                              response_ids=rids, own_themes=labels_lists)
        if cache is not None:
            cache.save_table(zs_key, zs)
    n_themes_per_doc = d.ind.sum(axis=1)
    zs_summary = {
        "theme_text": "name. definition",
        "min_similarity": float(min_similarity),
        "n_assigned": int(zs["assigned_theme"].notna().sum()),
        "n_on_own_theme": int(zs["on_own_theme"].sum()),
        "n_nearest_is_own": int(zs["nearest_is_own"].sum()),
        "expected_nearest_is_own_by_chance": float((n_themes_per_doc / len(themes)).sum()),
    }
    return keywords, zs, zs_summary


def _check_params(ref: Any, d: _CheckData, zero_shot_min_similarity: float) -> dict[str, Any]:
    """Return the settings to report: the reference model's, and any static distillation's."""
    params = _params(ref, len(d.docs), zero_shot_min_similarity)
    settings = getattr(d.embeddings.embedder, "settings_", None)
    if settings:
        params["static_distillation"] = dict(settings)
    return params


def topic_check(
    responses: pd.DataFrame,
    codings: pd.DataFrame,
    codebook: Any,
    *,
    backend: str = "sentence-transformers",
    model: Any = None,
    embedding_model: str | os.PathLike[str] | None = None,
    n_seeds: int = 10,
    n_permutations: int = 1000,
    random_state: int = RANDOM_STATE,
    k: int | None = None,
    clustering: str = "kmeans",
    multi_label: str = "first",
    zero_shot_min_similarity: float = 0.3,
    embeddings: Any = None,
    cache_dir: str | os.PathLike[str] | None = "auto",
    progress: bool = False,
    large_n: int | None = None,
    unit: str = "document",
) -> TopicCheck:
    """Check the manual themes against topic models, with chance and stability.

    Only analysable responses are embedded, modelled and compared: rows whose
    ``exclude`` is true (booleans, or the strings ``"True"``/``"False"`` of a cleaned
    table read back from CSV) are dropped first, with any codings they carry (said in
    :attr:`TopicCheck.warnings`).

    Parameters
    ----------
    responses : pandas.DataFrame
        ``response_id, text`` (+ ``exclude``).
    codings : pandas.DataFrame
        ``response_id, code`` (+ ``start``); codes are theme ids (or codes under themes).
    codebook : Codebook or pandas.DataFrame
        The themes (see :func:`theme_table`).
    backend : {"sentence-transformers", "static", "tfidf"}
        Embedding backend (:func:`thematic.embeddings.embed`).
    model : TopicModel or estimator, optional
        Your own topic model: a :class:`thematic.topics.TopicModel` (its ``n_topics``
        defaults to ``k`` when unset) or any scikit-learn style clusterer (``fit``,
        ``labels_``; used as the clustering step of a :class:`~thematic.topics.TopicModel`).
        It is cloned (:func:`sklearn.base.clone`) for every seed with that seed as
        ``random_state``. Its own ``embedding_backend``/``embedding_model`` are not used:
        the embeddings are computed once, here, from ``backend`` and
        ``embedding_model`` (or given as ``embeddings``).
    embedding_model : str or os.PathLike, optional
        Local sentence-transformers model (see :mod:`thematic.embeddings`).
    n_seeds : int
        Topic-model fits (seeds ``random_state, random_state + 1, ...``); the first is
        the reference fit for the contingency table and the chance baseline.
    n_permutations : int
        Permutations of the chance baseline.
    random_state : int
        Base seed of the topic models and seed of the permutations.
    k : int, optional
        Number of topics (k-means); default the number of themes.
    clustering : {"kmeans", "hdbscan"}
        Clustering of :class:`thematic.topics.TopicModel` (ignored with ``model``).
    multi_label : {"first", "drop", "duplicate"}
        Single-label rule for multi-theme documents (module docstring).
    zero_shot_min_similarity : float
        Threshold of the zero-shot assignment to theme definitions.
    embeddings : thematic.embeddings.Embeddings, optional
        Precomputed embeddings of ``responses["text"]`` (after dropping empty texts;
        with or without the excluded rows).
    cache_dir : str, os.PathLike, "auto" or None
        Embedding cache, and cache of the topic-model fits and of the keyword and
        zero-shot tables (``<cache_dir>/fits``; see :mod:`thematic._fitcache`): a re-run
        on unchanged responses, codings, embeddings, settings, package versions and
        ``thematic.topics`` code reads the fits instead of repeating them, with identical
        results. ``None`` turns both off.
    progress : bool
        Progress bars over seeds and permutations.
    large_n : int, optional
        Document count above which the default topic model switches to PCA and
        mini-batch k-means (default :data:`thematic.topics.LARGE_N`); also the count
        above which the summary and JSON state the Monte-Carlo error of the baseline.
    unit : str
        What a document is called in the summary: a study's ``settings.unit``
        (``"response"``, ``"extract"``); default ``"document"``.

    Returns
    -------
    TopicCheck

    Raises
    ------
    InputError
        For a bad option (naming it and the values allowed), too few analysable or coded
        responses, or embeddings that do not match the responses.
    ValidationError
        Listing every coding whose code or response is unknown.
    """
    from .topics import LARGE_N

    _check_topic_options(n_seeds, multi_label, unit, model)
    large = LARGE_N if large_n is None else int(large_n)
    messages: list[str] = []
    d = _check_data(responses, codings, codebook, embeddings, messages, backend=backend,
                    embedding_model=embedding_model, cache_dir=cache_dir, progress=progress,
                    random_state=random_state)
    k_eff = int(k) if k is not None else len(d.themes)
    seeds = [int(random_state) + i for i in range(int(n_seeds))]
    template = _topic_template(model, k_eff, clustering, large)
    from ._fitcache import FitCache

    cache = FitCache.at(cache_dir)
    fits, frames = _fit_seeds(template, seeds, d, progress, cache)
    ref = fits[0]
    few = _fewer_topics(fits, seeds)
    if few:
        messages.append(few)
    parts = np.stack([f.labels_ for f in fits])[:, d.coded]
    stats, seed_stats, null, monte_carlo = _chance_and_stability(
        d, parts, seeds, multi_label=multi_label, n_permutations=n_permutations,
        random_state=random_state, progress=progress)
    ctab, topic_ids, sizes, cont, matching = _contingency_and_matching(d, parts, seeds)
    topics_df = _topic_table(ref, ctab, topic_ids, sizes, d.themes)
    recovery = _theme_recovery(d, parts)
    extracts, texts, theme_str = _extract_table(d, parts)
    disagreements = _reading_list(d, extracts, topics_df, recovery, texts, theme_str)
    keywords, zs, zs_summary = _keywords_and_zero_shot(d, extracts, texts,
                                                       zero_shot_min_similarity, cache)
    params = _check_params(ref, d, zero_shot_min_similarity)
    themes_df = d.table.copy()
    themes_df["n_documents"] = d.ind.sum(axis=0).astype("int64")
    requested = ref.n_topics_requested_
    return TopicCheck(
        n_documents=int(len(d.coded)), n_responses=int(len(d.docs)),
        n_multi_theme=int((d.ind.sum(axis=1) > 1).sum()), multi_label=multi_label,
        backend=d.embeddings.backend, model=ref.model_name_, clustering=ref.clustering_,
        k=int(requested) if requested is not None else int(ref.n_topics_), seeds=seeds,
        n_permutations=int(n_permutations), random_state=int(random_state),
        themes=themes_df, statistics=stats, seed_statistics=seed_stats, null=null,
        partition_agreement=_partition_ari(parts),
        assignments=pd.concat(frames, ignore_index=True), contingency=cont,
        matching=matching, topic_words=ref.topic_words_, theme_keywords=keywords,
        zero_shot=zs, zero_shot_summary=zs_summary, extracts=extracts, topics=topics_df,
        theme_recovery=recovery, disagreements=disagreements,
        model_sha256=d.embeddings.model_sha256, params=params, device=d.embeddings.device,
        reduction=ref.reduction_, warnings=messages, n_excluded=d.n_excluded,
        monte_carlo=monte_carlo, large_n=large, unit=unit,
        fits_from_cache=sum(getattr(f, "bertopic_", True) is None for f in fits),
    )


def _with_k(model: Any, k: int) -> Any:
    """Return the :class:`~thematic.topics.TopicModel` of a k-sweep at ``k`` (unfitted)."""
    from sklearn.base import clone

    from .topics import TopicModel

    if model is None:
        return TopicModel(k, clustering="kmeans")
    if isinstance(model, TopicModel):
        est = model.clustering
        if isinstance(est, str):
            if est != "kmeans":
                raise InputError(f"a k-sweep needs a clustering with a number of clusters; "
                                 f"TopicModel(clustering={est!r}) has none (use 'kmeans' or a "
                                 "clusterer with n_clusters)")
            return clone(model).set_params(n_topics=k)
        if "n_clusters" not in est.get_params(deep=False):
            raise InputError("a k-sweep needs a clustering with an n_clusters parameter, not "
                             f"{type(est).__name__}")
        return clone(model).set_params(clustering=clone(est).set_params(n_clusters=k))
    if not (hasattr(model, "fit") and hasattr(model, "get_params")):
        raise InputError("model must be a thematic TopicModel or a scikit-learn style "
                         f"clusterer (fit, get_params, labels_), not {type(model).__name__}")
    if "n_clusters" not in model.get_params(deep=False):
        raise InputError("model must be a TopicModel or a clusterer with an n_clusters "
                         f"parameter, not {type(model).__name__}")
    return TopicModel(k, clustering=clone(model).set_params(n_clusters=k))


def k_sweep(
    responses: pd.DataFrame,
    codings: pd.DataFrame,
    codebook: Any,
    ks: Iterable[int],
    *,
    embeddings: Any = None,
    backend: str = "sentence-transformers",
    model: Any = None,
    embedding_model: str | os.PathLike[str] | None = None,
    n_seeds: int = 3,
    random_state: int = RANDOM_STATE,
    multi_label: str = "first",
    cache_dir: str | os.PathLike[str] | None = "auto",
) -> pd.DataFrame:
    """Agreement statistics of topic models over a range of ``k`` (numbers of topics).

    The same topic model is fitted for every ``k`` and seed on the same embeddings
    (computed once), and each fit is compared with the themes as in :func:`topic_check`
    (no chance baseline here: read the curve's shape, not its level).

    Parameters
    ----------
    responses, codings, codebook
        As for :func:`topic_check` (excluded responses are dropped the same way).
    ks : iterable of int
        Numbers of topics, each at least 2 and below the number of responses.
    embeddings : Embeddings, optional
        Precomputed embeddings of the responses' texts.
    backend : {"sentence-transformers", "static", "tfidf"}
        Embedding backend if ``embeddings`` is omitted.
    model : TopicModel or estimator, optional
        Your own topic model, cloned for every ``k`` and seed: a
        :class:`~thematic.topics.TopicModel` gets ``n_topics=k`` (k-means) or, when its
        clustering is an estimator, that estimator gets ``n_clusters=k``; any other
        scikit-learn clusterer with ``n_clusters`` becomes the clustering step of a
        :class:`~thematic.topics.TopicModel`. Each fit gets its seed as ``random_state``.
        Default: the k-means :class:`~thematic.topics.TopicModel`. As in
        :func:`topic_check`, the model's own ``embedding_backend``/``embedding_model``
        are not used: the embeddings come from ``embeddings``, or ``backend`` and
        ``embedding_model``.
    embedding_model : str or os.PathLike, optional
        Local sentence-transformers model if ``embeddings`` is omitted (also the source
        of the static backend).
    n_seeds : int
        Seeds per ``k`` (``random_state, random_state + 1, ...``).
    random_state : int
        First seed.
    multi_label : {"first", "drop", "duplicate"}
        Single-label rule.
    cache_dir : str, os.PathLike, "auto" or None
        Embedding cache and fit cache (as in :func:`topic_check`).

    Returns
    -------
    pandas.DataFrame
        ``k, statistic, mean, sd, n_seeds, n_topics_min``: the mean and sd of each
        statistic over the seeds, and the fewest topics formed by any seed at that ``k``
        (below ``k`` when the texts do not hold that many distinct groups).

    Raises
    ------
    InputError
        For a bad option, a ``k`` out of range, a model that has no number of clusters,
        or embeddings that do not match the responses.
    """
    from .embeddings import Embeddings, embed

    ks = [int(k) for k in ks]
    if not ks:
        raise InputError("ks is empty: give the numbers of topics to sweep")
    if int(n_seeds) < 1:
        raise InputError(f"n_seeds must be >= 1, not {n_seeds}")
    check_option("multi_label", multi_label, MULTI_LABEL_RULES)
    templates = {k: _with_k(model, k) for k in ks}
    resp, codings, embeddings, _ = _analysable(responses, codings, embeddings, [])
    _, ind_all, first_all = theme_indicator(resp["response_id"].tolist(), codings, codebook)
    coded = np.flatnonzero(ind_all.any(axis=1))
    docs = resp["text"].astype(str).tolist()
    bad = [k for k in ks if not 2 <= k <= len(docs) - 1]
    if bad:
        raise InputError(f"every k must be between 2 and n - 1 = {len(docs) - 1} for "
                         f"{len(docs)} analysable responses, not {bad}")
    if embeddings is None:
        embeddings = embed(docs, backend=backend, model=embedding_model, cache_dir=cache_dir,
                           random_state=random_state)
    elif not isinstance(embeddings, Embeddings) or len(embeddings) != len(docs):
        raise InputError("embeddings must be an Embeddings object for the responses' texts")
    seeds = [int(random_state) + i for i in range(int(n_seeds))]
    from ._fitcache import FitCache

    cache = FitCache.at(cache_dir)
    data_key = _data_key(docs, embeddings) if cache is not None else None
    rows, formed = [], {}
    for k in ks:
        for seed in seeds:
            tm = _fit_one(templates[k], seed, docs, embeddings, cache, data_key)
            labels = tm.labels_
            formed[k] = min(formed.get(k, tm.n_topics_), tm.n_topics_)
            st = agreement_statistics(ind_all[coded], first_all[coded], labels[coded],
                                      multi_label=multi_label)
            rows += [{"k": k, "seed": seed, "statistic": s, "value": v} for s, v in st.items()]
    df = pd.DataFrame(rows)
    g = df.groupby(["k", "statistic"], sort=False)["value"]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1).fillna(0.0),
                        "n_seeds": g.size().astype("int64")}).reset_index()
    out["n_topics_min"] = out["k"].map(formed).astype("int64")
    out["statistic"] = pd.Categorical(out["statistic"], categories=list(STATISTICS),
                                      ordered=True)
    out = out.sort_values(["k", "statistic"], kind="stable")
    return out.astype({"statistic": str, "k": "int64"}).reset_index(drop=True)
