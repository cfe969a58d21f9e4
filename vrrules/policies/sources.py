"""The source documents a spec's ``reference.seed`` may name, declared by file name.

The documents themselves are kept beside the project (``shared/seeds/`` for the seed
documents, ``shared/reference/`` for the project's reference notes), not in the package: an
installed vrrules has no copy to look in, and a check that looked in a folder only some
machines have would pass on one and fail on another. So the names are declared here, once,
and the check stage refuses a ``seed`` that is not among them (``reference_seed_unknown``).
A test compares this list with the folders wherever they are present.

Adding a source document: put the file under ``shared/``, then add its name here with a
few words on what it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["SOURCE_FILES"]

SOURCE_FILES: Mapping[str, str] = MappingProxyType(
    {
        # shared/seeds/
        "000_61d9d72e77cb107c.txt": "L&I vocational recovery flyer for medical providers",
        "001_ef39799bbcac7ce7.txt": "VRA 2025 positioning: tiers, roles, case management",
        "002_cdb762258cb591ad.txt": "L&I retraining-plan guidance for vocational providers",
        "003_781934a3e38bad47.txt": "background: vocational case management",
        "004_9d193ce764de6cb0.txt": "background: the occupational therapy approach",
        # shared/reference/
        "policy-facts.md": "vrrules reference facts, with their sources and confidence",
    }
)
