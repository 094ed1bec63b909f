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
  permutation p-value ``(1 + #{null >= observed}) / (1 + n_permutations)``;
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

from .config import RANDOM_STATE, project_paths
from .errors import InputError, Problem, ValidationError

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
    "load_project",
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


def _theme_of_code(codebook: Any, code: str, ids: set[str]) -> str | None:
    if code in ids:
        return code
    finder = getattr(codebook, "theme_of", None)
    if finder is not None:
        try:
            th = finder(code)
        except (KeyError, ValueError):
            return None
        return getattr(th, "id", None) if getattr(th, "id", None) in ids else None
    return None


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
        with a :class:`~thematic.codebook.Codebook`, codes/subthemes under a theme.
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
    for k, (rid, code) in enumerate(zip(df["response_id"], df["code"], strict=True)):
        where = f"codings row {k + 2}"
        theme = _theme_of_code(codebook, str(code), ids)
        if theme is None:
            problems.append(Problem("unknown_code", f"code {code!r} is not a theme of the codebook",
                                    where))
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
    if rule == "duplicate":
        d, t = np.nonzero(indicator)
        return d, t
    raise InputError(f"multi_label must be one of {list(MULTI_LABEL_RULES)}, not {rule!r}")


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
    from scipy.optimize import linear_sum_assignment

    table = np.asarray(table, dtype=np.int64)
    sizes = table.sum(axis=0) if topic_sizes is None else np.asarray(topic_sizes)
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
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        out.append({"theme_index": t, "topic_index": k, "n_theme": n_theme, "n_topic": n_topic,
                    "n_both": both, "precision": p, "recall": r, "f1": f1})
    return pd.DataFrame(out)


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


def permutation_test(
    indicator: np.ndarray,
    first: np.ndarray,
    topics: np.ndarray,
    *,
    n_permutations: int = 1000,
    random_state: int = RANDOM_STATE,
    multi_label: str = "first",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chance baseline: every statistic under random permutations of the theme labels.

    The theme labels (rows of ``indicator`` with ``first``) are permuted across
    documents while the topics stay fixed; this keeps the theme sizes and the topic
    partition and removes any association between them.

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

    Returns
    -------
    summary : pandas.DataFrame
        ``statistic, observed, null_mean, null_sd, p_value, n_permutations``; the p-value
        is ``(1 + #{null >= observed}) / (1 + n_permutations)`` (one-sided: more agreement
        than chance).
    null : pandas.DataFrame
        ``permutation, statistic, value``: the null distribution.
    """
    if int(n_permutations) < 1:
        raise InputError(f"n_permutations must be >= 1, not {n_permutations}")
    observed = agreement_statistics(indicator, first, topics, multi_label=multi_label)
    rng = np.random.default_rng(random_state)
    null = np.empty((int(n_permutations), len(STATISTICS)))
    for b in range(int(n_permutations)):
        perm = rng.permutation(len(first))
        s = agreement_statistics(indicator[perm], first[perm], topics, multi_label=multi_label)
        null[b] = [s[k] for k in STATISTICS]
    obs = np.array([observed[k] for k in STATISTICS])
    # tolerance: permutations reproducing the observed labelling tie with it exactly
    ge = (null >= obs - 1e-12).sum(axis=0)
    summary = pd.DataFrame(
        {
            "statistic": list(STATISTICS),
            "observed": obs,
            "null_mean": null.mean(axis=0),
            "null_sd": null.std(axis=0, ddof=1) if len(null) > 1 else np.zeros(len(obs)),
            "p_value": (1 + ge) / (1 + len(null)),
            "n_permutations": np.int64(len(null)),
        }
    )
    long = pd.DataFrame(null, columns=list(STATISTICS))
    long.insert(0, "permutation", np.arange(len(null), dtype=np.int64))
    long = long.melt(id_vars="permutation", var_name="statistic", value_name="value")
    return summary, long


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
    """
    parts = np.asarray(partitions)
    n_fits, n = parts.shape
    if n_fits < 2:
        return np.full(n, np.nan)
    co = [(p[:, None] == p[None, :]) & ~np.eye(n, dtype=bool) for p in parts]
    total = np.zeros(n)
    for a, b in combinations(range(n_fits), 2):
        inter = (co[a] & co[b]).sum(axis=1)
        union = (co[a] | co[b]).sum(axis=1)
        total += np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return total / math.comb(n_fits, 2)


def _co_assignment(partitions: np.ndarray) -> np.ndarray:
    parts = np.asarray(partitions)
    n = parts.shape[1]
    co = np.mean([(p[:, None] == p[None, :]) for p in parts], axis=0)
    co[np.eye(n, dtype=bool)] = 0.0
    return co


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
    """
    co = _co_assignment(partitions)
    ind = indicator.astype(float)
    shares = (ind @ ind.T) > 0
    weight = co.sum(axis=1)
    same = np.where(weight > 0, (co * shares).sum(axis=1) / np.where(weight > 0, weight, 1), np.nan)
    theme_mass = co @ ind
    theme_mass[indicator] = -1.0
    other = theme_mass.argmax(axis=1)
    other_share = np.where(weight > 0, theme_mass[np.arange(len(other)), other]
                           / np.where(weight > 0, weight, 1), np.nan)
    other = np.where(theme_mass.max(axis=1) > 0, other, -1)
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
        lines = [
            f"Topic check ({self.backend}; {self.model}): {self.n_documents} coded extracts, "
            f"{len(self.themes)} themes, k = {self.k}.",
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
        z = self.zero_shot_summary
        lines.append(
            f"Zero-shot (definitions, similarity >= {z['min_similarity']}): "
            f"{z['n_on_own_theme']}/{self.n_documents} on their own theme; nearest definition "
            f"is their own for {z['n_nearest_is_own']} (chance ~{z['expected_nearest_is_own_by_chance']:.1f})."
        )
        counts = self.disagreements.drop_duplicates(["kind", "subject"])["kind"].value_counts()
        lines.append(
            "Reading list: "
            f"{int(counts.get('extract_neighbours_other_themes', 0))} extracts whose topic "
            "neighbours mostly carry other themes, "
            f"{int(counts.get('topic_without_majority_theme', 0))} topics without a majority "
            f"theme, {int(counts.get('theme_not_recovered', 0))} themes no topic recovers."
        )
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
            ``matching``, ``zero_shot``, ``disagreements`` and ``note``.
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
    missing = [c for c in ("response_id", "text") if c not in responses.columns]
    if missing:
        raise InputError(f"responses lack column(s) {missing}")
    df = responses[["response_id", "text"]].copy()
    df["response_id"] = df["response_id"].astype("string")
    df = df[df["text"].notna() & (df["text"].astype("string").str.strip() != "")]
    dup = df["response_id"][df["response_id"].duplicated()].tolist()
    if dup:
        raise InputError(f"duplicate response ids: {sorted(set(dup))[:5]}")
    return df.reset_index(drop=True)


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
    from .topics import default_min_cluster_size, default_n_neighbors

    out: dict[str, Any] = {
        "reduce": model.reduce,
        "umap_n_neighbors": int(model.n_neighbors or default_n_neighbors(n)),
        "umap_n_components": int(max(2, min(model.n_components, n - 2))),
        "umap_min_dist": 0.0,
        "umap_metric": "cosine",
        "vectorizer": f"CountVectorizer(stop_words={model.stop_words!r}, min_df={model.min_df})",
        "zero_shot_min_similarity": float(zero_shot_min_similarity),
    }
    if model.clustering == "kmeans":
        out["kmeans_n_init"] = 10
    else:
        out["hdbscan_min_cluster_size"] = int(model.min_cluster_size
                                              or default_min_cluster_size(n))
    return out


def topic_check(
    responses: pd.DataFrame,
    codings: pd.DataFrame,
    codebook: Any,
    *,
    backend: str = "sentence-transformers",
    model: str | os.PathLike[str] | None = None,
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
) -> TopicCheck:
    """Check the manual themes against topic models, with chance and stability.

    Parameters
    ----------
    responses : pandas.DataFrame
        ``response_id, text``.
    codings : pandas.DataFrame
        ``response_id, code`` (+ ``start``); codes are theme ids (or codes under themes).
    codebook : Codebook or pandas.DataFrame
        The themes (see :func:`theme_table`).
    backend : {"sentence-transformers", "tfidf"}
        Embedding backend.
    model : str or os.PathLike, optional
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
        Clustering of :class:`thematic.topics.TopicModel`.
    multi_label : {"first", "drop", "duplicate"}
        Single-label rule for multi-theme documents (module docstring).
    zero_shot_min_similarity : float
        Threshold of the zero-shot assignment to theme definitions.
    embeddings : thematic.embeddings.Embeddings, optional
        Precomputed embeddings of ``responses["text"]`` (after dropping empty texts).
    cache_dir : str, os.PathLike, "auto" or None
        Embedding cache.
    progress : bool
        Progress bar over seeds and permutations.

    Returns
    -------
    TopicCheck
    """
    from .embeddings import Embeddings, embed
    from .topics import TopicModel, theme_keywords, zero_shot_themes

    if int(n_seeds) < 1:
        raise InputError(f"n_seeds must be >= 1, not {n_seeds}")
    if multi_label not in MULTI_LABEL_RULES:
        raise InputError(f"multi_label must be one of {list(MULTI_LABEL_RULES)}")
    resp = _responses_frame(responses)
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
        embeddings = embed(docs, backend=backend, model=model, cache_dir=cache_dir,
                           progress=progress, random_state=random_state)
    elif not isinstance(embeddings, Embeddings) or len(embeddings) != len(docs):
        raise InputError("embeddings must be an Embeddings object for the responses' texts")
    k_eff = int(k) if k is not None else len(themes)
    seeds = [int(random_state) + i for i in range(int(n_seeds))]

    fits, frames = [], []
    iterator: Iterable[int] = seeds
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(seeds, desc="seeds")
    for seed in iterator:
        tm = TopicModel(k_eff, clustering=clustering, random_state=seed)
        tm.fit(docs, embeddings)
        fits.append(tm)
        frames.append(tm.topics_frame(rids))
    ref = fits[0]
    parts_all = np.stack([f.labels_ for f in fits])
    parts = parts_all[:, coded]

    seed_rows = []
    for seed, p in zip(seeds, parts, strict=True):
        for name, v in agreement_statistics(ind, first, p, multi_label=multi_label).items():
            seed_rows.append({"seed": seed, "statistic": name, "value": v})
    seed_stats = pd.DataFrame(seed_rows)
    chance, null = permutation_test(ind, first, parts[0], n_permutations=n_permutations,
                                    random_state=random_state, multi_label=multi_label)
    stats = chance.merge(seed_stability(seed_stats), on="statistic", how="left")

    # contingency + matching (reference seed)
    ctab, topic_ids = contingency(ind, parts[0])
    sizes = np.array([(parts[0] == t).sum() for t in topic_ids])
    cont = pd.DataFrame(
        [{"theme": themes[i], "topic": int(topic_ids[j]), "n": int(ctab[i, j])}
         for i in range(len(themes)) for j in range(len(topic_ids))]
    )
    match = hungarian_match(ctab, sizes)
    f1_seeds = []
    for p in parts:
        t, ids_ = contingency(ind, p)
        f1_seeds.append(hungarian_match(t, np.array([(p == x).sum() for x in ids_]))["f1"].to_numpy())
    f1_seeds = np.array(f1_seeds)
    names = dict(zip(table["theme"], table["name"], strict=True))
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

    # topics (reference) and theme recovery (all seeds)
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
    topics_df = pd.DataFrame(topic_rows)
    recovered = np.zeros(len(themes))
    for p in parts:
        t, ids_ = contingency(ind, p)
        sz = np.array([(p == x).sum() for x in ids_])
        covers = t / np.maximum(sz, 1) > 0.5
        recovered += covers.any(axis=1)
    rate = recovered / len(parts)
    recovery = pd.DataFrame({"theme": themes, "name": [names[t] for t in themes],
                             "recovery_rate": rate, "recovered": rate >= 0.5})

    # per extract
    cons = extract_consistency(parts)
    nb = neighbour_agreement(parts, ind)
    texts = np.array(docs, dtype=object)[coded]
    theme_str = ["; ".join(themes[j] for j in np.flatnonzero(row)) for row in ind]
    extracts = pd.DataFrame({
        "response_id": [rids[i] for i in coded],
        "themes": theme_str,
        "topic": parts[0].astype("int64"),
        "consistency": cons,
        "neighbour_weight": nb["neighbour_weight"],
        "same_theme_share": nb["same_theme_share"],
        "main_other_theme": [themes[j] if j >= 0 else None for j in nb["main_other_theme_index"]],
        "main_other_theme_share": nb["main_other_theme_share"],
        "text": texts,
    })

    # reading list
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
    for r in recovery[~recovery["recovered"]].itertuples():
        members = np.flatnonzero(ind[:, themes.index(r.theme)])
        for i in members:
            e = extracts.iloc[i]
            dis.append({"kind": "theme_not_recovered", "subject": r.theme,
                        "response_id": e.response_id, "themes": e.themes, "topic": e.topic,
                        "score": r.recovery_rate, "text": e.text})
    disagreements = pd.DataFrame(
        dis, columns=["kind", "subject", "response_id", "themes", "topic", "score", "text"]
    )

    # BERTopic manual mode and zero-shot
    labels_lists = [[themes[j] for j in np.flatnonzero(row)] for row in ind]
    sub = Embeddings(embeddings.vectors[coded], embeddings.backend, embeddings.model_sha256,
                     0, embeddings.embedder)
    keywords = theme_keywords(list(texts), labels_lists, embeddings=sub)
    definitions = {
        t: (f"{n}. {d}" if d else n)
        for t, n, d in zip(table["theme"], table["name"], table["definition"], strict=True)
    }
    zs = zero_shot_themes(list(texts), definitions, sub,
                          min_similarity=zero_shot_min_similarity,
                          response_ids=extracts["response_id"].tolist(), own_themes=labels_lists)
    n_themes_per_doc = ind.sum(axis=1)
    zs_summary = {
        "theme_text": "name. definition",
        "min_similarity": float(zero_shot_min_similarity),
        "n_assigned": int(zs["assigned_theme"].notna().sum()),
        "n_on_own_theme": int(zs["on_own_theme"].sum()),
        "n_nearest_is_own": int(zs["nearest_is_own"].sum()),
        "expected_nearest_is_own_by_chance": float((n_themes_per_doc / len(themes)).sum()),
    }

    themes_df = table.copy()
    themes_df["n_documents"] = ind.sum(axis=0).astype("int64")
    return TopicCheck(
        n_documents=int(len(coded)),
        n_responses=int(len(docs)),
        n_multi_theme=int((n_themes_per_doc > 1).sum()),
        multi_label=multi_label,
        backend=embeddings.backend,
        model=ref.model_name_,
        clustering=clustering,
        k=k_eff if clustering == "kmeans" else int(ref.n_topics_),
        seeds=seeds,
        n_permutations=int(n_permutations),
        random_state=int(random_state),
        themes=themes_df,
        statistics=stats,
        seed_statistics=seed_stats,
        null=null,
        partition_agreement=_partition_ari(parts),
        assignments=pd.concat(frames, ignore_index=True),
        contingency=cont,
        matching=matching,
        topic_words=ref.topic_words_,
        theme_keywords=keywords,
        zero_shot=zs,
        zero_shot_summary=zs_summary,
        extracts=extracts,
        topics=topics_df,
        theme_recovery=recovery,
        disagreements=disagreements,
        model_sha256=embeddings.model_sha256,
        params=_params(ref, len(docs), zero_shot_min_similarity),
    )


def k_sweep(
    responses: pd.DataFrame,
    codings: pd.DataFrame,
    codebook: Any,
    ks: Iterable[int],
    *,
    embeddings: Any = None,
    backend: str = "sentence-transformers",
    n_seeds: int = 3,
    random_state: int = RANDOM_STATE,
    multi_label: str = "first",
    cache_dir: str | os.PathLike[str] | None = "auto",
) -> pd.DataFrame:
    """Agreement statistics of k-means topic models over a range of ``k``.

    Parameters
    ----------
    responses, codings, codebook
        As for :func:`topic_check`.
    ks : iterable of int
        Numbers of topics.
    embeddings : Embeddings, optional
        Precomputed embeddings of the responses' texts.
    backend : str
        Embedding backend if ``embeddings`` is omitted.
    n_seeds : int
        Seeds per ``k``.
    random_state : int
        First seed.
    multi_label : str
        Single-label rule.
    cache_dir : str, os.PathLike, "auto" or None
        Embedding cache.

    Returns
    -------
    pandas.DataFrame
        ``k, statistic, mean, sd, n_seeds``.
    """
    from .embeddings import embed
    from .topics import sweep_k

    resp = _responses_frame(responses)
    _, ind_all, first_all = theme_indicator(resp["response_id"].tolist(), codings, codebook)
    coded = np.flatnonzero(ind_all.any(axis=1))
    docs = resp["text"].astype(str).tolist()
    if embeddings is None:
        embeddings = embed(docs, backend=backend, cache_dir=cache_dir, random_state=random_state)
    seeds = [int(random_state) + i for i in range(int(n_seeds))]
    sweep = sweep_k(docs, ks, embeddings=embeddings, seeds=seeds)
    rows = []
    for (kk, seed), g in sweep.groupby(["k", "seed"], sort=True):
        labels = g.sort_values("position")["topic"].to_numpy()[coded]
        st = agreement_statistics(ind_all[coded], first_all[coded], labels,
                                  multi_label=multi_label)
        rows += [{"k": int(kk), "seed": int(seed), "statistic": s, "value": v}
                 for s, v in st.items()]
    df = pd.DataFrame(rows)
    g = df.groupby(["k", "statistic"], sort=False)["value"]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1).fillna(0.0),
                        "n_seeds": g.size().astype("int64")}).reset_index()
    out["statistic"] = pd.Categorical(out["statistic"], categories=list(STATISTICS),
                                      ordered=True)
    return out.sort_values(["k", "statistic"]).astype({"statistic": str}).reset_index(drop=True)


def load_project(
    root: str | os.PathLike[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """Read the project's responses, codings and codebook.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Project root (found from the working directory if omitted).

    Returns
    -------
    responses : pandas.DataFrame
        ``corpus/processed/responses.csv``.
    codings : pandas.DataFrame
        ``corpus/coding/codings.csv`` (:func:`thematic.coding.load_codings`, checked
        against the responses and the codebook).
    codebook : thematic.codebook.Codebook
        ``corpus/coding/codebook.yaml`` (:func:`thematic.codebook.load_codebook`).

    Raises
    ------
    InputError
        If a file is missing.
    ValidationError
        If the codebook or the codings have problems (every problem listed).
    """
    from .codebook import load_codebook
    from .coding import load_codings, load_responses

    paths = project_paths(root)
    responses = load_responses(paths.responses)
    codebook = load_codebook(paths.codebook)
    codings = load_codings(paths.codings, responses, codebook)
    return responses, codings, codebook
