"""Publishing: a version of a family declared in force by a named person, never changed after.

A version id names one text for good. Publishing is refused when different content was
published under the id (``version_already_published``) or when decisions recorded in the
store already used the id with other content (``version_already_used``). The releases
themselves (the exact spec texts) are stored once, by hash, when first used or published.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from eventsourcing.utils import get_topic

from vrrules.errors import ReleaseUnknownError, VersionAlreadyPublishedError, VersionAlreadyUsedError
from vrrules.events.domain import Case, PolicyRelease, VersionPublication
from vrrules.events.store import CaseStore
from vrrules.policies.caseschema import CASE_SOURCES
from vrrules.policies.compiler import CompiledFamily, SpecSource
from vrrules.policies.library import PolicyLibrary

__all__ = ["Publisher", "release_source", "store_release"]

_E = TypeVar("_E", bound=Any)


def store_release(store: CaseStore, compiled: CompiledFamily) -> None:
    """Store the exact text of ``compiled`` under its hash, unless the store has it already.

    A published version never changes: a release whose version id was published with other
    content is refused (``version_already_published``), whether a decision, an import or a
    publication would store it, and nothing is written. A draft id (never published) may be
    edited in place while it is worked on: each text is stored under its own hash, and the
    decisions that used each replay against it; publishing refuses an id whose drafts
    decisions used with other content (``Publisher.publish``).
    """
    if store.release(compiled.sha256) is not None:
        return
    _refuse_other_published(store, compiled)
    # another writer may store the same release first: same text, same id, either one wins
    store.add(
        PolicyRelease(
            family=compiled.family,
            spec_version=compiled.version,
            effective_from=compiled.spec.effective_from.isoformat(),
            sha256=compiled.sha256,
            text=compiled.source.text,
            file=Path(compiled.source.file).name,
        )
    )


def release_source(store: CaseStore, sha256: str) -> SpecSource:
    """The stored text of a release, as a spec source named after where it came from."""
    stored = store.release(sha256)
    if stored is None:
        raise ReleaseUnknownError(
            f"expected the store to hold the policy release {sha256[:12]}…, got nothing", sha256=sha256
        )
    return SpecSource(text=stored.text, file=f"release {stored.family} {stored.spec_version} ({stored.file})")


def _refuse_other_published(store: CaseStore, compiled: CompiledFamily) -> None:
    family, version = compiled.family, compiled.version
    existing = store.publication(family, version)
    if existing is not None and existing.sha256 != compiled.sha256:
        raise VersionAlreadyPublishedError(
            f"{family} {version}: expected the published content (sha256 {existing.sha256[:12]}…, "
            f"published by {existing.published_by}), got different content (sha256 "
            f"{compiled.sha256[:12]}…) from {compiled.source.file}; published versions never change, "
            "and no decision is made under one with other content. Give the changed spec a new "
            "version id.",
            family=family,
            version=version,
        )


def _refuse_reused_version(store: CaseStore, compiled: CompiledFamily) -> None:
    """Refuse ``compiled`` when the store holds its family and version id with other content
    (``version_already_used``), naming the recorded decisions that used that content."""
    family, version = compiled.family, compiled.version
    others = {
        event.sha256
        for event in _decoded(store, PolicyRelease.Released)
        if event.family == family and event.spec_version == version and event.sha256 != compiled.sha256
    }
    if not others:
        return
    refs = {event.originator_id: event.opening.case_ref for event in _decoded(store, Case.Opened)}
    used = [
        f"case {refs.get(event.originator_id, event.originator_id)} event {event.originator_version}"
        for event in _decoded(store, Case.DecisionRecorded)
        if event.decision.spec_sha256 in others
    ]
    raise VersionAlreadyUsedError(
        f"{family} {version}: expected the content the store holds under this id (sha256 "
        f"{', '.join(sorted(s[:12] + '…' for s in others))}), got different content (sha256 "
        f"{compiled.sha256[:12]}…) from {compiled.source.file}; {len(used)} decision(s) used it"
        + (f", first {used[:5]}" if used else "")
        + ". Give the changed spec a new version id and publish that.",
        family=family,
        version=version,
        decisions=used,
    )


def _decoded(store: CaseStore, event_class: type[_E]) -> list[_E]:
    found: list[_E] = []
    for record in store.records([get_topic(event_class)]):
        try:
            event = store.decode(record)
        except Exception:  # a damaged record is the audit's to report, not a publisher's
            continue
        if isinstance(event, event_class):
            found.append(event)
    return found


class Publisher:
    """Publishes versions into one store and reads back what is published there."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store
        self._library: tuple[list[str], PolicyLibrary] | None = None

    def publish(self, compiled: CompiledFamily, published_by: str, note: str) -> str:
        """Record ``compiled`` as the published content of its version; return what happened."""
        family, version = compiled.family, compiled.version
        existing = self._store.publication(family, version)
        if existing is not None:
            if existing.sha256 == compiled.sha256:
                return "already published"
            raise VersionAlreadyPublishedError(
                f"{family} {version}: expected the published content (sha256 {existing.sha256[:12]}…, "
                f"published by {existing.published_by}), got different content (sha256 "
                f"{compiled.sha256[:12]}…) from {compiled.source.file}; published versions never change. "
                "Give the changed spec a new version id and publish that.",
                family=family,
                version=version,
            )
        _refuse_reused_version(self._store, compiled)
        # The published versions of a family must not overlap in time: check before storing.
        sources = [release_source(self._store, p.sha256) for p in self.publications()]
        PolicyLibrary.from_sources([*sources, compiled.source], case_sources=CASE_SOURCES)
        store_release(self._store, compiled)
        publication = VersionPublication(
            family=family, spec_version=version, sha256=compiled.sha256, published_by=published_by, note=note
        )
        if not self._store.add(publication):  # published by someone else a moment ago: look again
            return self.publish(compiled, published_by, note)
        self._library = None
        return "published"

    def publications(self) -> list[VersionPublication.Published]:
        return _decoded(self._store, VersionPublication.Published)

    def library(self) -> PolicyLibrary:
        """A library of exactly the versions published in this store."""
        shas = sorted(p.sha256 for p in self.publications())
        if self._library is not None and self._library[0] == shas:
            return self._library[1]
        library = PolicyLibrary.from_sources(
            [release_source(self._store, sha) for sha in shas], case_sources=CASE_SOURCES
        )
        self._library = (shas, library)
        return library
