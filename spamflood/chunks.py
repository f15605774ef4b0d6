"""The batch detector's input, a chunk at a time: every chunk of rows is read, checked,
normalized and hashed (:func:`prepare_chunk`), in forked worker processes when there are
several jobs (:func:`map_chunks`), and the chunks are then joined into one (:func:`join_chunks`).

The process tricks of a large run live here. Workers are forked, so they inherit the compiled
kernels and the lexicon automata, and the parent's heap is frozen so that their garbage
collections do not walk it. On a plain JSONL file the workers read their own byte ranges and
write signatures into one array in shared memory (:func:`input_chunks`), instead of pickling
them back to the parent.
"""

from __future__ import annotations

import gc
import mmap
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from spamflood._memory import release_freed_memory
from spamflood.cluster import signature_digest
from spamflood.coordination import PostObjects, text_objects
from spamflood.criteria.context import Columns
from spamflood.decision import POST_FAMILIES, WHOLE_BATCH_FAMILIES, Findings
from spamflood.io.layout import Layout
from spamflood.io.readers import JsonlSpan, ReadStats, detect_format, iter_chunks, json_layout, jsonl_spans
from spamflood.io.rows import FieldWarnings, RawRow, Reject, RowParser
from spamflood.minhash import MinHasher
from spamflood.normalize import normalize_and_shingle_codes, shingle_codes, warm_up
from spamflood.posts import PostBatch

__all__ = [
    "ChunkWork",
    "PreparedChunk",
    "effective_jobs",
    "input_chunks",
    "join_chunks",
    "map_chunks",
    "prepare_chunk",
]

@dataclass(frozen=True)
class ChunkWork:
    """What preparing a chunk needs, the same for every chunk of one run."""

    parser: RowParser
    hasher: MinHasher
    families: tuple[str, ...]
    """The criteria families that read one post's text alone (none: criteria off)."""
    tz: str
    """IANA time zone of the calendar criteria."""
    jobs: int = 1
    """Worker processes (``1``: the chunks are prepared in the calling process)."""
    objects: bool = True
    """Find each post's shared objects for coordination (:func:`~spamflood.coordination.text_objects`)."""
    text: Any = None
    """The model's compiled text part (:class:`~spamflood.model.text_kernel.CompiledText`), which
    scores each post's matching form where the chunk holds it; ``None``: no text model."""


@dataclass
class PreparedChunk:
    """Rows read, checked, normalized and hashed: the valid posts with their signatures and
    text criteria, and the rows rejected."""

    batch: PostBatch
    signatures: np.ndarray
    clusterable: np.ndarray
    rejects: list[Reject]
    criteria: Findings
    scan: Any = None
    """The lexicon counts the batch families read (so the main process never rescans texts)."""
    blank_lines: int = 0
    """Blank lines skipped in the chunk (when the worker read the lines itself)."""
    digests: np.ndarray | None = None
    """:func:`~spamflood.cluster.signature_digest` of each signature, taken while it is in cache."""
    unreadable: FieldWarnings = field(default_factory=FieldWarnings)
    """Optional values of the chunk read as missing."""
    objects: PostObjects | None = None
    """The links, hashtags and mentions of the chunk's texts (of the batch's reposts too once
    joined), which coordination reads: found in the worker, which holds the texts anyway."""
    text_scores: np.ndarray | None = None
    """The text model's probability of each post (``ChunkWork.text``), from the matching forms
    the worker made anyway: the main process need not normalize the texts again."""


def effective_jobs(n_jobs: int) -> int:
    """Processes for ``n_jobs`` (``-1``: one per core)."""
    return (os.cpu_count() or 1) if n_jobs == -1 else n_jobs


def input_chunks(
    source: Any, fmt: str | None, work: ChunkWork, chunk_rows: int, stats: ReadStats, layout: Layout | None = None
) -> tuple[Iterable[list[RawRow] | JsonlSpan], np.ndarray | None]:
    """The chunks of ``source``, ``chunk_rows`` rows each, and the array the workers write
    signatures into by line if they read the chunks themselves: so they do for an uncompressed
    JSONL file with several jobs. Anything else is read in the calling process, counting into
    ``stats``."""
    if work.jobs > 1 and _plain_jsonl_file(source, fmt):
        spans = list(jsonl_spans(source, rows_per_span=chunk_rows))
        return spans, _line_signature_array(sum(span.lines for span in spans), work.hasher.num_perm)
    chunks = iter_chunks(source, fmt=fmt, chunk_rows=chunk_rows, stats=stats, field_map=work.parser.field_map, layout=layout)
    return chunks, None


_LINE_SIGNATURES: np.ndarray | None = None
"""In a worker process: the array shared with the parent, one row per input line, into which
the worker writes the signatures of the spans it reads (see :func:`_line_signature_array`)."""


def _share_line_signatures(array: np.ndarray) -> None:
    """Worker initializer: keep the inherited shared array."""
    global _LINE_SIGNATURES
    _LINE_SIGNATURES = array


def _line_signature_array(lines: int, num_perm: int) -> np.ndarray:
    """A zeroed ``(lines, num_perm)`` array in anonymous shared memory: forked workers write
    their posts' signatures straight into it (row ``line - 1``), so signatures are neither
    pickled back to the parent nor copied into one array there."""
    size = lines * num_perm * 4
    buffer = mmap.mmap(-1, max(size, 1))  # MAP_SHARED: the forked workers see one copy
    return np.frombuffer(buffer, dtype=np.uint32, count=lines * num_perm).reshape(lines, num_perm)


def prepare_chunk(
    rows: list[RawRow] | JsonlSpan,
    parser: RowParser,
    hasher: MinHasher,
    families: tuple[str, ...],
    tz: str,
    *,
    objects: bool = False,
    text: Any = None,
) -> PreparedChunk:
    """One chunk read (a :class:`JsonlSpan` is read here, in the worker), checked, normalized
    and hashed, with the text ``families``' criteria and, with ``objects``, the texts' shared
    objects; with ``text`` (a compiled text model, criteria on), each post's text score. The Spark engine prepares its partitions with it too, so that both engines start
    from the same numbers."""
    blank_lines = 0
    by_line = isinstance(rows, JsonlSpan) and _LINE_SIGNATURES is not None
    if isinstance(rows, JsonlSpan):  # read here, in the worker
        rows, blank_lines = rows.rows()
    unreadable = FieldWarnings()
    batch, rejects = parser.parse_batch(rows, unreadable)
    if families:  # normalize once: the criteria match on this form, and shingling continues from it
        normalized, codes, offsets = normalize_and_shingle_codes(batch.texts)
    else:  # nothing reads the matching form: the shingling form alone, with no str per post
        normalized = batch.texts
        codes, offsets = shingle_codes(batch.texts)
    signatures = hasher.signatures_from_codes(codes, offsets)
    digests = signature_digest(signatures)
    if by_line:
        _LINE_SIGNATURES[batch.lines - 1] = signatures  # type: ignore[index]
        signatures = signatures[:0]
    clusterable = np.diff(offsets) > 0
    scan = None
    if families and len(batch):
        from spamflood.criteria import scan_names, scan_texts

        # One scan for every family that reads text; the batch families keep its counts.
        scan = scan_texts(normalized, POST_FAMILIES + WHOLE_BATCH_FAMILIES, normalized=True, keep_hits=True)
        # Text features are small counts: float32 holds them exactly (evaluate checks) in half the memory.
        names = batch.author_name if any(x is not None for x in batch.author_name) else None
        data = Columns(texts=normalized, author_name=list(names)) if names else normalized  # a sender signs its post
        criteria = Findings.compute(  # the texts as written, for the reasons to quote
            data, None, families, tz, normalized=True, scan=scan, dtype=np.float32, originals=batch.texts
        )
        scan = scan.only(*scan_names(WHOLE_BATCH_FAMILIES))
    else:
        criteria = Findings.compute(normalized, None, families, tz, normalized=True)
    found = text_objects(batch.texts) if objects else None
    scores = text.proba(normalized) if text is not None and families else None
    return PreparedChunk(batch, signatures, clusterable, rejects, criteria, scan, blank_lines, digests, unreadable, found, scores)


def map_chunks(
    chunks: Iterable[list[RawRow] | JsonlSpan],
    work: ChunkWork,
    by_line: np.ndarray | None = None,
    *,
    on_fork: Callable[[], None] | None = None,
) -> Iterator[PreparedChunk]:
    """Every chunk prepared, in order: in the calling process with one job, else in
    ``work.jobs`` forked workers, two chunks per worker in flight. ``by_line``: the shared array
    of :func:`input_chunks`. ``on_fork`` runs once the workers are forked, from when starting a
    thread is safe."""
    if work.jobs <= 1:
        for rows in chunks:
            yield prepare_chunk(rows, work.parser, work.hasher, work.families, work.tz, objects=work.objects, text=work.text)
        return
    global _TEXT
    _TEXT = work.text  # the forked workers inherit it (its arrays are megabytes: not pickled per chunk)
    if work.text is not None:
        work.text.proba(["warm up"])  # loaded (or compiled) once here, inherited
    # Load the kernels once here, with the argument types the workers call them with, so
    # forked workers inherit them instead of each loading (or compiling) its own.
    warm_up()
    codes, offsets = shingle_codes(["warm up the kernel"])
    signature_digest(work.hasher.signatures_from_codes(codes, offsets))
    if work.families:
        from spamflood.criteria import scan_texts

        scan_texts(["warm up"], POST_FAMILIES + WHOLE_BATCH_FAMILIES)  # lexicon automata built once, inherited
    context = multiprocessing.get_context("fork")
    pending: list[Future[PreparedChunk]] = []
    # Forked workers inherit this heap; frozen, their garbage collections do not walk it.
    gc.freeze()
    try:
        if by_line is None:
            pool = ProcessPoolExecutor(max_workers=work.jobs, mp_context=context)
        else:
            pool = ProcessPoolExecutor(
                max_workers=work.jobs, mp_context=context, initializer=_share_line_signatures, initargs=(by_line,)
            )
        with pool:
            for rows in chunks:
                pending.append(
                    pool.submit(_prepare_in_worker, rows, work.parser, work.hasher, work.families, work.tz, work.objects)
                )
                if len(pending) == 1 and on_fork is not None:  # the workers are forked now
                    on_fork()
                if len(pending) >= 2 * work.jobs:
                    yield pending.pop(0).result()
            for future in pending:
                yield future.result()
    finally:
        gc.unfreeze()
        _TEXT = None


_TEXT: Any = None
"""In a worker process: the text model of the run that forked it (``ChunkWork.text``)."""


def _prepare_in_worker(
    rows: list[RawRow] | JsonlSpan, parser: RowParser, hasher: MinHasher, families: tuple[str, ...], tz: str, objects: bool
) -> PreparedChunk:
    """:func:`prepare_chunk` in a forked worker, with the text model it inherited."""
    return prepare_chunk(rows, parser, hasher, families, tz, objects=objects, text=_TEXT)


def join_chunks(parts: list[PreparedChunk], line_signatures: list[np.ndarray], num_perm: int, strict: bool) -> PreparedChunk:
    """The chunks as one, in input order, without the posts whose id came before: each is a
    reject (chunks are checked apart, so a repeated id shows only here), and with ``strict`` the
    first raises :class:`~spamflood.errors.InputError`. ``parts`` and ``line_signatures`` (the
    array the workers wrote signatures into by line, if they did) are emptied here, so that
    their memory goes as soon as it is not needed."""
    batch = PostBatch.concat([p.batch for p in parts])
    rejects = [r for p in parts for r in p.rejects]
    criteria = Findings.concat([p.criteria for p in parts])
    scans = [p.scan for p in parts if p.scan is not None]
    scan = None
    if scans and len(scans) == len(parts):
        from spamflood.criteria import Scan

        scan = Scan.concat(scans)
    clusterable = np.concatenate([p.clusterable for p in parts]) if parts else np.zeros(0, dtype=np.bool_)
    digests = np.concatenate([p.digests for p in parts]) if parts else np.zeros(0, dtype=np.uint64)
    blank_lines = sum(p.blank_lines for p in parts)
    found = [p.objects for p in parts if p.objects is not None]
    objects = None
    if parts and len(found) == len(parts):
        objects = PostObjects.join(found, [len(p.batch) for p in parts], batch.repost_of)
    scored = [p.text_scores for p in parts if p.text_scores is not None]
    text_scores = np.concatenate(scored) if parts and len(scored) == len(parts) else None
    unreadable = FieldWarnings()
    for part in parts:
        unreadable.update(part.unreadable)
    by_line = line_signatures.pop() if line_signatures else None
    if by_line is not None:  # the workers wrote them by line: keep the lines that are posts
        signatures = by_line if len(batch) == len(by_line) else by_line[batch.lines - 1]
        del by_line  # (the last reference: line_signatures was emptied)
    else:
        signatures = _join_signatures(parts, num_perm)
    parts.clear()
    release_freed_memory()
    keep = _unique_ids(batch, rejects, strict)
    if keep is not None:
        batch = batch.take(keep)
        signatures = signatures[keep]
        clusterable = clusterable[keep]
        digests = digests[keep]
        criteria = criteria.take(keep)
        scan = scan.take(keep) if scan is not None else None
        objects = None  # numbered over the posts kept: coordination finds them again (a rare case)
        text_scores = text_scores[keep] if text_scores is not None else None
    rejects.sort(key=lambda r: r.line)
    return PreparedChunk(
        batch, signatures, clusterable, rejects, criteria, scan, blank_lines, digests, unreadable, objects, text_scores
    )


def _join_signatures(parts: list[PreparedChunk], num_perm: int) -> np.ndarray:
    """The chunks' signatures as one array. Each chunk's copy is dropped as soon as it is
    copied, so the peak is one full array plus one chunk, not two full arrays."""
    signatures = np.empty((sum(len(p.batch) for p in parts), num_perm), dtype=np.uint32)
    at = 0
    for k, part in enumerate(parts):
        rows = part.signatures.shape[0]
        signatures[at : at + rows] = part.signatures
        part.signatures = np.empty((0, signatures.shape[1]), dtype=signatures.dtype)  # not a view of it
        at += rows
        if k % 8 == 7:
            release_freed_memory()  # the chunks' copies leave as the full array fills
    return signatures


def _unique_ids(batch: PostBatch, rejects: list[Reject], strict: bool) -> np.ndarray | None:
    """The posts to keep when an id repeats (its later posts join ``rejects``); ``None``: all."""
    if len(set(batch.ids)) == len(batch.ids):  # the usual case, found by one C loop
        return None
    seen: dict[str, int] = {}
    duplicate: list[int] = []
    for i, post_id in enumerate(batch.ids):
        if post_id in seen:
            duplicate.append(i)
        else:
            seen[post_id] = i
    if not duplicate:
        return None
    for i in duplicate:
        first_line = int(batch.lines[seen[batch.ids[i]]])
        reject = Reject(
            line=int(batch.lines[i]),
            field="id",
            reason=f"duplicate id '{batch.ids[i]}' (first seen on line {first_line})",
            raw=_raw_post(batch, i),
        )
        if strict:
            from spamflood.errors import InputError

            raise InputError(reject.reason, line=reject.line, field="id")
        rejects.append(reject)
    mask = np.ones(len(batch), dtype=np.bool_)
    mask[duplicate] = False
    return np.flatnonzero(mask)


def _raw_post(batch: PostBatch, i: int) -> str:
    import json

    post = batch.post(i)
    return json.dumps(
        {"id": post.id, "text": post.text, "author": post.author, "time": post.time}, ensure_ascii=False
    )


def _plain_jsonl_file(source: Any, fmt: str | None) -> TypeGuard[str | Path]:
    """Whether ``source`` is an uncompressed JSONL file on disk (not stdin, not a pipe), which
    worker processes can read by byte ranges."""
    if not isinstance(source, (str, Path)) or str(source) == "-":
        return False
    path = Path(source)
    return (
        path.suffix.lower() != ".gz"
        and path.is_file()
        and detect_format(path, fmt) == "jsonl"
        and json_layout(path) == "lines"  # a JSON array is read whole; pretty JSON is refused
    )
