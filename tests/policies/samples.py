"""Small spec texts the stage tests share (the shipped specs are under specs/)."""

from __future__ import annotations

SAMPLE = """\
family: sample
version: "1"
title: Sample family
effective_from: 2025-10-01
hit_policy: first
reference: {document: Test document, section: "1"}
facts:
  level: {type: int, description: a level}
  cost: {type: money, description: a cost}
  seen_on: {type: date, description: a day}
  needs: {type: set, description: needs, values: [a, b, c]}
  worker_status: {type: enum, description: work status, source: work.status, values: [in_work, absent]}
parameters:
  limit:
    type: money
    description: a limit
    reference: {document: Test document, section: "2"}
    values:
      2025-10-01: "100.00"
      2026-01-01: "150.50"
  steps:
    type: days
    description: a day count
    reference: {document: Test document, section: "2"}
    values: {2025-10-01: 3}
  wanted:
    type: codes
    description: codes
    reference: {document: Test document, section: "2"}
    values: {2025-10-01: [a, b]}
rules:
  - id: over
    when: {fact: cost, gt: {param: limit}}
    outcome: {result: over, limit: {param: limit}}
    reason: The cost is over the limit.
    reference: {document: Test document, section: "3"}
  - id: needs
    when:
      all:
        - {fact: needs, contains_any: {param: wanted}}
        - {fact: seen_on, gte: 2025-10-02}
        - {not: {fact: level, lt: {param: steps}}}
    outcome: {result: needs}
    reason: Some needs are wanted.
    reference: {document: Test document, section: "3"}
"""
