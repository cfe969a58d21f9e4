"""The RFC 9162 Merkle log: published test vectors, a naive reference, pymerkle, and properties.

Test vectors, and where they come from:

* ``transparency-dev/merkle`` ``rfc6962/rfc6962_test.go`` (``TestRFC6962Hasher``): the empty
  root, the hash of an empty leaf, of the leaf ``L123456`` and of the node ``N123``/``N456``.
* ``transparency-dev/merkle`` ``proof/verify_test.go``: the 8-leaf reference tree of
  Certificate Transparency's ``merkle_tree_test`` (``leaves``), its roots at sizes 1 to 8
  (``roots``), its inclusion proofs (``inclusionProofs``) and consistency proofs
  (``consistencyProofs``), and the corruptions every verifier must refuse
  (``corruptInclusionProof``, ``corruptConsistencyProof``, ``TestVerifyConsistency``).
  Trillian's ``merkle/rfc6962`` tests and Go's ``sumdb/tlog/tlog_test.go`` use the same tree.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Sequence
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vrrules.errors import (
    LogHashInvalidError,
    LogProofMalformedError,
    LogRecordInvalidError,
    LogSizeError,
    VrrulesError,
)
from vrrules.events.tlog import (
    EMPTY_ROOT,
    LogTree,
    Mismatch,
    TreeHasher,
    consistency_proof_size,
    find_first_mismatch,
    inclusion_proof_size,
    leaf_hash,
    node_hash,
    parse_record_bytes,
    record_bytes,
    record_leaf_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

# --- published vectors -------------------------------------------------------------------

LEAVES = [
    b"",
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]
ROOTS = [
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
# (leaf number counted from 1, as in verify_test.go, tree size, proof)
INCLUSION = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (3, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        2,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def test_rfc6962_hasher_vectors() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"L123456").hex() == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


def test_reference_tree_roots_at_every_size() -> None:
    tree = LogTree.from_records(LEAVES)
    assert tree.tree_hash(0) == EMPTY_ROOT
    assert LogTree().root() == EMPTY_ROOT
    for size in range(1, 9):
        assert tree.tree_hash(size) == ROOTS[size - 1], size
        assert LogTree.from_records(LEAVES[:size]).root() == ROOTS[size - 1], size


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_reference_inclusion_proofs(leaf: int, size: int, proof: list[bytes]) -> None:
    tree = LogTree.from_records(LEAVES)
    index = leaf - 1
    assert tree.inclusion_proof(index, size) == proof
    assert inclusion_proof_size(index, size) == len(proof)
    leaf_h = leaf_hash(LEAVES[index])
    assert root_from_inclusion_proof(leaf_h, index, size, proof) == ROOTS[size - 1]
    assert verify_inclusion(leaf_h, index, size, proof, ROOTS[size - 1])
    for description, probe in _corrupt_inclusion(index, size, proof, ROOTS[size - 1], leaf_h):
        assert not _proves_inclusion(*probe), description


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_reference_consistency_proofs(old: int, new: int, proof: list[bytes]) -> None:
    tree = LogTree.from_records(LEAVES)
    assert tree.consistency_proof(old, new) == proof
    assert consistency_proof_size(old, new) == len(proof)
    assert verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)
    if proof:
        for description, probe in _corrupt_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof):
            assert not _proves_consistency(*probe), description


def _proves_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """A probe is refused either as False or as a coded malformed-proof error."""
    try:
        return verify_inclusion(leaf, index, size, proof, root)
    except (LogProofMalformedError, LogHashInvalidError):
        return False


def _proves_consistency(old: int, new: int, r1: bytes, r2: bytes, proof: Sequence[bytes]) -> bool:
    try:
        return verify_consistency(old, new, r1, r2, proof)
    except (LogProofMalformedError, LogHashInvalidError):
        return False


def _corrupt_inclusion(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[str, tuple[bytes, int, int, list[bytes], bytes]]]:
    """verify_test.go's corruptInclusionProof, probe for probe."""
    probes: list[tuple[str, tuple[bytes, int, int, list[bytes], bytes]]] = [
        ("index - 1", (leaf, index - 1, size, proof, root)),
        ("index + 1", (leaf, index + 1, size, proof, root)),
        ("index ^ 2", (leaf, index ^ 2, size, proof, root)),
        ("size * 2", (leaf, index, size * 2, proof, root)),
        ("size / 2", (leaf, index, size // 2, proof, root)),
        ("wrong leaf", (b"WrongLeaf", index, size, proof, root)),
        ("wrong leaf, right length", (SOME_HASH, index, size, proof, root)),
        ("empty root", (leaf, index, size, proof, EMPTY_ROOT)),
        ("random root", (leaf, index, size, proof, SOME_HASH)),
        ("trailing garbage", (leaf, index, size, [*proof, b""], root)),
        ("trailing root", (leaf, index, size, [*proof, root], root)),
        ("preceding garbage", (leaf, index, size, [b"", *proof], root)),
        ("preceding root", (leaf, index, size, [root, *proof], root)),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        probes.append((f"modified proof[{i}] bit 3", (leaf, index, size, wrong, root)))
    if proof:
        probes.append(("removed component", (leaf, index, size, proof[:-1], root)))
    if len(proof) > 1:
        probes.append(("inserted component", (leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root)))
    return probes


def _corrupt_consistency(
    old: int, new: int, r1: bytes, r2: bytes, proof: list[bytes]
) -> list[tuple[str, tuple[int, int, bytes, bytes, list[bytes]]]]:
    """verify_test.go's corruptConsistencyProof, probe for probe."""
    probes: list[tuple[str, tuple[int, int, bytes, bytes, list[bytes]]]] = [
        ("size1 - 1", (old - 1, new, r1, r2, proof)),
        ("size1 + 1", (old + 1, new, r1, r2, proof)),
        ("size1 ^ 2", (old ^ 2, new, r1, r2, proof)),
        ("size2 * 2", (old, new * 2, r1, r2, proof)),
        ("size2 / 2", (old, new // 2, r1, r2, proof)),
        ("wrong root1", (old, new, b"WrongRoot", r2, proof)),
        ("wrong root2", (old, new, r1, b"WrongRoot", proof)),
        ("other root1", (old, new, SOME_HASH, r2, proof)),
        ("swapped roots", (old, new, r2, r1, proof)),
        ("empty proof", (old, new, r1, r2, [])),
        ("trailing garbage", (old, new, r1, r2, [*proof, b""])),
        ("trailing root1", (old, new, r1, r2, [*proof, r1])),
        ("trailing root2", (old, new, r1, r2, [*proof, r2])),
        ("preceding garbage", (old, new, r1, r2, [b"", *proof])),
        ("preceding root1", (old, new, r1, r2, [r1, *proof])),
        ("preceding root2", (old, new, r1, r2, [r2, *proof])),
        ("preceding proof[0]", (old, new, r1, r2, [proof[0], *proof])),
        ("truncated proof", (old, new, r1, r2, proof[:-1])),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 16]) + wrong[i][1:]
        probes.append((f"modified proof[{i}] bit 4", (old, new, r1, r2, wrong)))
    return probes


def test_single_entry_inclusion() -> None:
    """verify_test.go TestVerifyInclusionSingleEntry: root and leaf of a 1-leaf tree are one hash."""
    leaf = leaf_hash(b"data")
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not _proves_inclusion(b"", 0, 1, [], leaf)
    assert not _proves_inclusion(leaf, 0, 1, [], b"")


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (1, 1)])
def test_inclusion_refuses_an_index_outside_the_tree(index: int, size: int) -> None:
    """verify_test.go TestVerifyInclusion's probes: index >= size is malformed, with a code."""
    with pytest.raises(LogProofMalformedError) as caught:
        verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
    assert caught.value.code == "log_proof_malformed"
    assert "not below the tree size" in caught.value.message


def test_consistency_edge_cases() -> None:
    """verify_test.go TestVerifyConsistency, with this module's stricter size-0 rule documented."""
    root = ROOTS[0]
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 1, EMPTY_ROOT, root, [])
    assert verify_consistency(1, 1, root, root, [])
    # A size-0 tree whose root is not the empty root cannot be (the Go library ignores it).
    assert not verify_consistency(0, 1, SOME_HASH, root, [])
    assert not verify_consistency(1, 1, root, SOME_HASH, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, SOME_HASH, [])
    for old, new, proof in [(1, 0, []), (2, 1, []), (1, 2, []), (0, 0, [EMPTY_ROOT]), (1, 1, [EMPTY_ROOT])]:
        with pytest.raises(LogProofMalformedError):
            verify_consistency(old, new, root, root, proof)


def test_malformed_arguments_get_coded_errors() -> None:
    tree = LogTree.from_records(LEAVES)
    with pytest.raises(LogSizeError) as caught:
        tree.inclusion_proof(0, 9)
    assert caught.value.code == "log_size_out_of_range"
    assert "holds only 8 leaves" in caught.value.message
    with pytest.raises(LogSizeError):
        tree.tree_hash(9)
    with pytest.raises(LogSizeError):
        tree.leaf(8)
    with pytest.raises(LogProofMalformedError):
        tree.consistency_proof(5, 4)
    with pytest.raises(LogProofMalformedError):
        tree.inclusion_proof(-1, 4)
    with pytest.raises(LogProofMalformedError):
        tree.tree_hash(-1)
    with pytest.raises(LogHashInvalidError) as bad_hash:
        tree.append(b"short")
    assert bad_hash.value.code == "log_hash_invalid"
    with pytest.raises(LogHashInvalidError):
        tree.append(ROOTS[0].hex())  # type: ignore[arg-type]
    with pytest.raises(LogHashInvalidError):
        LogTree.from_packed(b"x" * 33)
    assert tree.size == 8  # refusals leave the tree as it was
    with pytest.raises(LogProofMalformedError):
        verify_inclusion(leaf_hash(b""), 0, 8, b"not a list", ROOTS[7])  # type: ignore[arg-type]
    for error in (LogSizeError, LogProofMalformedError, LogHashInvalidError, LogRecordInvalidError):
        assert issubclass(error, VrrulesError)


# --- a naive reference, straight from the RFC's recursive definitions ----------------------


def _mth(leaves: Sequence[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def _subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


def test_every_proof_up_to_40_leaves_matches_the_rfc_definitions() -> None:
    records = [f"record {i}".encode() for i in range(40)]
    tree = LogTree.from_records(records)
    for size in range(1, 41):
        root = _mth(records[:size])
        assert tree.tree_hash(size) == root
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert proof == _path(index, records[:size])
            assert verify_inclusion(leaf_hash(records[index]), index, size, proof, root)
        for old in range(1, size + 1):
            proof = tree.consistency_proof(old, size)
            assert proof == (_subproof(old, records[:size], True) if old < size else [])
            assert verify_consistency(old, size, _mth(records[:old]), root, proof)


def test_tiles_agree_with_the_naive_tree_on_a_larger_tree() -> None:
    """Sizes around tile edges (multiples of 16 and 256) use stored and recomputed subtrees alike."""
    rng = random.Random(13)
    records = [rng.randbytes(rng.randrange(0, 20)) for _ in range(600)]
    tree = LogTree.from_records(records)
    for size in [1, 15, 16, 17, 255, 256, 257, 300, 511, 512, 513, 600]:
        assert tree.tree_hash(size) == _mth(records[:size]), size
        index = rng.randrange(size)
        assert tree.inclusion_proof(index, size) == _path(index, records[:size])
        old = rng.randrange(1, size + 1)
        expected = _subproof(old, records[:size], True) if old < size else []
        assert tree.consistency_proof(old, size) == expected
    packed = LogTree.from_packed(tree.leaf_hashes())
    assert packed.root() == tree.root()


# --- pymerkle, an independent implementation ------------------------------------------


def test_random_trees_agree_with_pymerkle() -> None:
    pymerkle = pytest.importorskip("pymerkle")
    rng = random.Random(9162)
    checked = 0
    for _ in range(300):
        n = rng.randrange(1, 80)
        records = [rng.randbytes(rng.randrange(0, 12)) for _ in range(n)]
        theirs = pymerkle.InmemoryTree(algorithm="sha256")
        for record in records:
            theirs.append_entry(record)
        ours = LogTree.from_records(records)
        for _ in range(10):
            size = rng.randrange(1, n + 1)
            assert ours.tree_hash(size) == theirs.get_root(size)
            index = rng.randrange(size)
            their_path = theirs.prove_inclusion(index + 1, size).serialize()["path"]  # 1-based
            assert [bytes.fromhex(p) for p in their_path[1:]] == ours.inclusion_proof(index, size)
            old = rng.randrange(1, size + 1)
            # pymerkle's consistency paths are laid out its own way: check each side's
            # proof with the other side's verifier and roots instead.
            their_proof = theirs.prove_consistency(old, size)
            pymerkle.verify_consistency(ours.tree_hash(old), ours.tree_hash(size), their_proof)
            assert verify_consistency(
                old, size, theirs.get_root(old), theirs.get_root(size), ours.consistency_proof(old, size)
            )
            pymerkle.verify_inclusion(
                ours.leaf(index), ours.tree_hash(size), theirs.prove_inclusion(index + 1, size)
            )
            checked += 1
    assert checked == 3000


# --- properties --------------------------------------------------------------------------

record_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


@given(record_lists, st.data())
def test_every_inclusion_proof_verifies_and_any_flipped_bit_fails(
    records: list[bytes], data: st.DataObject
) -> None:
    tree = LogTree.from_records(records)
    size = data.draw(st.integers(1, len(records)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = tree.inclusion_proof(index, size)
    root = tree.tree_hash(size)
    leaf = leaf_hash(records[index])
    assert verify_inclusion(leaf, index, size, proof, root)
    target = data.draw(st.sampled_from(["leaf", "root", *(["proof"] if proof else [])]), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")

    def flip(value: bytes) -> bytes:
        return value[: bit // 8] + bytes([value[bit // 8] ^ (1 << bit % 8)]) + value[bit // 8 + 1 :]

    if target == "leaf":
        assert not verify_inclusion(flip(leaf), index, size, proof, root)
    elif target == "root":
        assert not verify_inclusion(leaf, index, size, proof, flip(root))
    else:
        at = data.draw(st.integers(0, len(proof) - 1), label="at")
        wrong = [*proof[:at], flip(proof[at]), *proof[at + 1 :]]
        assert not verify_inclusion(leaf, index, size, wrong, root)


@given(record_lists, st.data())
def test_consistency_holds_for_every_old_size_and_never_after_a_changed_leaf(
    records: list[bytes], data: st.DataObject
) -> None:
    tree = LogTree.from_records(records)
    new = data.draw(st.integers(1, len(records)), label="new")
    for old in range(new + 1):
        assert verify_consistency(
            old, new, tree.tree_hash(old), tree.tree_hash(new), tree.consistency_proof(old, new)
        )
    old = data.draw(st.integers(1, new), label="old")
    changed = data.draw(st.integers(0, old - 1), label="changed leaf")
    forged = list(records)
    forged[changed] = forged[changed] + b"!"
    forged_tree = LogTree.from_records(forged)
    # The honest old head against the forged new tree: no proof the forger can make fits.
    proof = forged_tree.consistency_proof(old, new)
    assert not verify_consistency(old, new, tree.tree_hash(old), forged_tree.tree_hash(new), proof)
    if old < new:
        honest = tree.consistency_proof(old, new)
        assert not verify_consistency(old, new, tree.tree_hash(old), forged_tree.tree_hash(new), honest)


@given(record_lists)
def test_appending_one_by_one_or_in_bulk_gives_the_same_tree(records: list[bytes]) -> None:
    one = LogTree()
    for i, record in enumerate(records):
        assert one.append_record(record) == i
    bulk = LogTree.from_records(records)
    assert one.root() == bulk.root() == _mth(records)
    assert one.leaf_hashes() == bulk.leaf_hashes()
    # Appending never changes the root of an earlier size.
    half = len(records) // 2
    assert bulk.tree_hash(half) == LogTree.from_records(records[:half]).root()


# --- record encoding ---------------------------------------------------------------------

records_st = st.tuples(
    st.uuids(),
    st.integers(0, 2**64 - 1),
    st.text(max_size=20),
    st.binary(max_size=40),
)



@given(st.lists(st.binary(min_size=0, max_size=8), max_size=70))
def test_the_streaming_hasher_gives_the_tree_hash_at_every_size(records: list[bytes]) -> None:
    """The audit takes its roots from a compact range as the leaves stream past; they must be
    the tree's own at every size on the way (the empty tree's included)."""
    tree = LogTree.from_records(records)
    hasher = TreeHasher()
    assert hasher.root() == EMPTY_ROOT
    for size, record in enumerate(records, start=1):
        hasher.append(leaf_hash(record))
        assert hasher.size == size and hasher.root() == tree.tree_hash(size)


@given(
    st.lists(st.binary(min_size=0, max_size=8), max_size=300),
    st.lists(st.integers(min_value=1, max_value=140), min_size=1, max_size=12),
)
def test_the_hasher_extended_in_runs_gives_the_tree_hash_at_every_cut(
    records: list[bytes], runs: list[int]
) -> None:
    """Many leaves added at once (a weekly audit's old part, a page at a time) give what
    appending each gives, whatever the runs and wherever they start."""
    tree = LogTree.from_records(records)
    leaves = [leaf_hash(record) for record in records]
    hasher, at = TreeHasher(), 0
    for run in runs * (len(leaves) // sum(runs) + 1):
        if at >= len(leaves):
            break
        hasher.extend(leaves[at : at + run])
        at = min(len(leaves), at + run)
        assert hasher.size == at and hasher.root() == tree.tree_hash(at)
    assert hasher.root() == tree.tree_hash(len(leaves))


@given(records_st)
def test_record_bytes_round_trip(record: tuple[UUID, int, str, bytes]) -> None:
    encoded = record_bytes(*record)
    assert encoded[:2] == b"R\x01"
    assert parse_record_bytes(encoded) == record


@given(records_st, records_st)
def test_different_records_never_share_bytes(
    a: tuple[UUID, int, str, bytes], b: tuple[UUID, int, str, bytes]
) -> None:
    assert (record_bytes(*a) == record_bytes(*b)) == (a == b)


def test_record_bytes_fixed_example_and_boundaries() -> None:
    stored_id = UUID("12345678-1234-5678-1234-567812345678")
    encoded = record_bytes(stored_id, 3, "vrrules.events:Case.Opened", b'{"a":1}')
    assert encoded == (
        b"R\x01"
        + stored_id.bytes
        + (3).to_bytes(8, "big")
        + (26).to_bytes(4, "big")
        + b"vrrules.events:Case.Opened"
        + (7).to_bytes(8, "big")
        + b'{"a":1}'
    )
    # A topic that swallows the start of the state is still a different record.
    assert record_bytes(stored_id, 1, "ab", b"c") != record_bytes(stored_id, 1, "a", b"bc")
    assert record_bytes(stored_id, 1, "t", bytearray(b"x")) == record_bytes(stored_id, 1, "t", b"x")
    assert record_leaf_hash(stored_id, 3, "é", b"") == leaf_hash(record_bytes(stored_id, 3, "é", b""))
    assert parse_record_bytes(record_bytes(stored_id, 3, "é", b""))[2] == "é"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("not-a-uuid", 1, "t", b""), "stored_id"),
        ((UUID(int=1), -1, "t", b""), "version"),
        ((UUID(int=1), 2**64, "t", b""), "version"),
        ((UUID(int=1), True, "t", b""), "version"),
        ((UUID(int=1), 1, b"t", b""), "topic"),
        ((UUID(int=1), 1, "\udcff", b""), "topic"),
        ((UUID(int=1), 1, "t", "decoded text"), "state"),
    ],
)
def test_record_bytes_refusals_name_the_field(args: tuple[object, ...], field: str) -> None:
    with pytest.raises(LogRecordInvalidError) as caught:
        record_bytes(*args)  # type: ignore[arg-type]
    assert caught.value.code == "log_record_invalid"
    assert caught.value.details["field"] == field


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"R\x02" + bytes(40),
        b"R\x01" + bytes(10),
        record_bytes(UUID(int=1), 1, "t", b"xy")[:-1],
        record_bytes(UUID(int=1), 1, "t", b"xy") + b"z",
    ],
)
def test_parse_record_bytes_is_strict(data: bytes) -> None:
    with pytest.raises(LogRecordInvalidError):
        parse_record_bytes(data)


# --- finding the first bad leaf -----------------------------------------------------------


def _trees(n: int, changed: int | None = None) -> tuple[list[bytes], LogTree]:
    records = [f"rec {i}".encode() for i in range(n)]
    if changed is not None:
        records[changed] = b"tampered"
    return records, LogTree.from_records(records)


def test_first_mismatch_is_exact_with_the_stored_leaf_hashes() -> None:
    _, honest = _trees(1000)
    head = (1000, honest.root())
    for changed in (0, 1, 499, 512, 998, 999):
        _, recomputed = _trees(1000, changed)
        found = find_first_mismatch(recomputed, [head], stored=honest)
        assert found == Mismatch(changed, changed + 1, "changed")
        assert found.index == changed
    assert find_first_mismatch(honest, [head], stored=honest) is None


def test_first_mismatch_with_heads_alone_gives_a_range() -> None:
    _, honest = _trees(1000)
    heads = [(size, honest.tree_hash(size)) for size in (100, 400, 1000)]
    _, recomputed = _trees(1000, 555)
    found = find_first_mismatch(recomputed, heads)
    assert found == Mismatch(400, 1000, "unlocated")
    assert found.index is None
    # Stored hashes that were altered too (they do not reproduce the head) are not trusted.
    found = find_first_mismatch(recomputed, heads, stored=recomputed)
    assert found == Mismatch(400, 1000, "unlocated")
    # Adjacent heads pin the leaf down.
    adjacent = [(555, honest.tree_hash(555)), (556, honest.tree_hash(556))]
    assert find_first_mismatch(recomputed, adjacent) == Mismatch(555, 556, "changed")


def test_first_mismatch_names_the_first_missing_leaf_after_truncation() -> None:
    _, honest = _trees(1000)
    records, _ = _trees(1000)
    truncated = LogTree.from_records(records[:700])
    found = find_first_mismatch(truncated, [(500, honest.tree_hash(500)), (1000, honest.root())])
    assert found == Mismatch(700, 1000, "missing")
    assert found.index == 700


def test_speed_of_a_large_tree_stays_reasonable() -> None:
    """A coarse guard (not a benchmark): 2**16 leaves hash, build and prove well within a second or two."""
    started = time.perf_counter()
    tree = LogTree(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(65_536))
    root = tree.root()
    proof = tree.inclusion_proof(12_345)
    assert verify_inclusion(tree.leaf(12_345), 12_345, tree.size, proof, root)
    cproof = tree.consistency_proof(40_000)
    assert verify_consistency(40_000, tree.size, tree.tree_hash(40_000), root, cproof)
    assert time.perf_counter() - started < 5


def test_first_mismatch_refuses_contradictory_heads() -> None:
    _, honest = _trees(10)
    with pytest.raises(LogProofMalformedError, match="two different roots for size 5"):
        find_first_mismatch(honest, [(5, honest.tree_hash(5)), (5, SOME_HASH)])
    with pytest.raises(LogProofMalformedError, match="size 0"):
        find_first_mismatch(honest, [(0, SOME_HASH)])
    assert (
        find_first_mismatch(honest, [(0, EMPTY_ROOT), (5, honest.tree_hash(5)), (5, honest.tree_hash(5))])
        is None
    )


@given(st.integers(1, 300), st.data())
def test_any_changed_leaf_is_named_exactly(size: int, data: st.DataObject) -> None:
    records, honest = _trees(size)
    changed = data.draw(st.integers(0, size - 1), label="changed")
    extra = data.draw(st.sets(st.integers(changed, size - 1), max_size=3), label="more changes after it")
    for index in {changed, *extra}:
        records[index] = records[index] + b"!"
    recomputed = LogTree.from_records(records)
    kept = data.draw(st.lists(st.integers(1, size), max_size=3), label="kept sizes")
    heads = [(s, honest.tree_hash(s)) for s in {*kept, size}]
    found = find_first_mismatch(recomputed, heads, stored=honest)
    assert found == Mismatch(changed, changed + 1, "changed")
    # Without the stored hashes, the range still holds the first changed leaf.
    ranged = find_first_mismatch(recomputed, heads)
    assert ranged is not None
    assert ranged.start <= changed < ranged.end


def test_a_refused_leaf_keeps_the_leaves_before_it() -> None:
    tree = LogTree()
    with pytest.raises(LogHashInvalidError, match="leaf hash 2"):
        tree.extend([leaf_hash(b"a"), leaf_hash(b"b"), b"bad", leaf_hash(b"c")])
    assert tree.size == 2
    assert tree.root() == LogTree.from_records([b"a", b"b"]).root()
    tree.extend([leaf_hash(b"c")])
    assert tree.root() == LogTree.from_records([b"a", b"b", b"c"]).root()
