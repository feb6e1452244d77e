"""C2SP signed-note checkpoints: published vectors, a golden file, strict parsing and tamper detection."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.errors import IntegrityError
from archiver.integrity.checkpoint import (
    Checkpoint,
    CheckpointFormatError,
    CheckpointOriginError,
    CheckpointSignatureError,
    NoteVerifierKey,
    add_signature,
    note_key_hint,
    parse_note,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    verify_note,
)
from archiver.integrity.keys import Signer

DATA = Path(__file__).resolve().parents[1] / "data" / "integrity"

# golang.org/x/mod/sumdb/note documentation example (Ed25519 is deterministic, so byte-exact).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann " + (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")

# c2sp.org/signed-note "Verifier keys" example.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = ("This is an example message.\n\n\u2014 example.com/foo "
             "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")

# c2sp.org/tlog-witness example checkpoint (we do not hold its key).
SOFA_NOTE = ("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
             "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
             "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n")

GOLDEN_SEED = bytes(range(32))
GOLDEN_NAME = "arsip.example.org/test-log"
CT_ROOT_8 = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")


@pytest.fixture
def signer() -> Signer:
    return Signer.from_seed(GOLDEN_SEED)


@pytest.fixture
def key(signer: Signer) -> NoteVerifierKey:
    return NoteVerifierKey(GOLDEN_NAME, signer.public_key_bytes)


@pytest.fixture
def golden() -> str:
    return (DATA / "checkpoint-8-ed25519.txt").read_text(encoding="utf-8")


def _go_signer() -> Signer:
    material = base64.b64decode(GO_SKEY.split("+", 4)[4])
    assert material[0] == 1
    return Signer.from_seed(material[1:])


def _independent_note(seed: bytes, name: str, body: str) -> str:
    """The signed note built with hashlib/base64/cryptography only, as the spec describes it."""
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes_raw()
    hint = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    signature = private.sign(body.encode())
    return body + "\n\u2014 " + name + " " + base64.b64encode(hint + signature).decode() + "\n"


def test_go_reference_key_strings_round_trip() -> None:
    signer = _go_signer()
    key = NoteVerifierKey("PeterNeumann", signer.public_key_bytes)
    assert key.to_vkey() == GO_VKEY
    assert NoteVerifierKey.from_vkey(GO_VKEY) == key
    assert key.key_hint.hex() == "c74f20a3"


def test_sign_note_reproduces_go_reference_note_byte_for_byte() -> None:
    assert sign_note(GO_TEXT, "PeterNeumann", _go_signer()) == GO_NOTE
    assert verify_note(GO_NOTE, [NoteVerifierKey.from_vkey(GO_VKEY)]) == GO_TEXT


def test_c2sp_spec_example_note_verifies() -> None:
    key = NoteVerifierKey.from_vkey(SPEC_VKEY)
    assert key.key_hint.hex() == "530d903a"
    assert note_key_hint(key.name, key.public_key_bytes) == key.key_hint
    assert verify_note(SPEC_NOTE, [key]) == "This is an example message.\n"


def test_c2sp_example_checkpoint_parses() -> None:
    checkpoint, signatures = parse_note(SOFA_NOTE)
    assert checkpoint == Checkpoint("example.com/behind-the-sofa", 20852163,
                                    base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="))
    assert [s.name for s in signatures] == ["example.com/behind-the-sofa"]
    assert checkpoint.body().decode() + "\n" + signatures[0].line() == SOFA_NOTE


def test_checkpoint_signed_only_by_unknown_key_is_refused(key: NoteVerifierKey) -> None:
    with pytest.raises(CheckpointSignatureError, match="behind-the-sofa at size 20852163") as info:
        verify_checkpoint(SOFA_NOTE, [key])
    assert info.value.code == "checkpoint_signature"


def test_golden_checkpoint_bytes_match_independent_construction(signer: Signer, golden: str) -> None:
    body = f"{GOLDEN_NAME}\n8\n{base64.b64encode(CT_ROOT_8).decode()}\n"
    expected = _independent_note(GOLDEN_SEED, GOLDEN_NAME, body)
    produced = sign_checkpoint(Checkpoint(GOLDEN_NAME, 8, CT_ROOT_8), GOLDEN_NAME, signer)
    assert produced == expected == golden


def test_golden_checkpoint_round_trips(key: NoteVerifierKey, golden: str) -> None:
    checkpoint = verify_checkpoint(golden, [key], origin=GOLDEN_NAME)
    assert checkpoint == Checkpoint(GOLDEN_NAME, 8, CT_ROOT_8)
    _, signatures = parse_note(golden)
    assert checkpoint.body().decode() + "\n" + "".join(s.line() for s in signatures) == golden


def test_tampered_golden_files_are_refused(key: NoteVerifierKey) -> None:
    with pytest.raises(CheckpointSignatureError, match="does not verify"):
        verify_checkpoint((DATA / "checkpoint-8-tampered-size.txt").read_text(encoding="utf-8"), [key])
    with pytest.raises(CheckpointFormatError, match="em dash"):
        verify_checkpoint((DATA / "checkpoint-8-hyphen-dash.txt").read_text(encoding="utf-8"), [key])


@pytest.mark.parametrize(("old", "new"), [
    ("test-log\n8\n", "test-loh\n8\n"),                      # origin
    ("\n8\n", "\n7\n"),                                      # size
    ("Xcnaea", "Ycnaea"),                                    # root hash
])
def test_one_changed_character_in_body_fails(key: NoteVerifierKey, golden: str, old: str, new: str) -> None:
    tampered = golden.replace(old, new, 1)
    assert tampered != golden
    with pytest.raises(CheckpointSignatureError):
        verify_checkpoint(tampered, [key])


@pytest.mark.parametrize("position", [10, 40, 80])
def test_one_changed_character_in_signature_fails(key: NoteVerifierKey, golden: str, position: int) -> None:
    line_start = golden.index("\u2014")
    encoded_start = golden.index(" ", line_start + 2) + 1
    at = encoded_start + position
    replacement = "A" if golden[at] != "A" else "B"
    tampered = golden[:at] + replacement + golden[at + 1:]
    with pytest.raises(IntegrityError) as info:
        verify_checkpoint(tampered, [key])
    assert info.value.code == "checkpoint_signature"


def test_wrong_key_fails(golden: str) -> None:
    other = Signer.from_seed(b"\x07" * 32)
    with pytest.raises(CheckpointSignatureError, match="no signature from a trusted key"):
        verify_checkpoint(golden, [NoteVerifierKey(GOLDEN_NAME, other.public_key_bytes)])


def test_wrong_name_fails(key: NoteVerifierKey, golden: str) -> None:
    with pytest.raises(CheckpointSignatureError):
        verify_checkpoint(golden.replace(f"\u2014 {GOLDEN_NAME} ", "\u2014 someone-else ", 1), [key])
    with pytest.raises(CheckpointSignatureError):
        verify_checkpoint(golden, [NoteVerifierKey("someone-else", key.public_key_bytes)])


def test_trusted_key_with_forged_signature_fails_even_beside_a_good_one(signer: Signer,
                                                                        key: NoteVerifierKey) -> None:
    note = sign_checkpoint(Checkpoint(GOLDEN_NAME, 3, b"\x01" * 32), GOLDEN_NAME, signer)
    forged = base64.b64encode(key.key_hint + b"\x00" * 64).decode()
    with pytest.raises(CheckpointSignatureError, match="does not verify"):
        verify_checkpoint(note + f"\u2014 {GOLDEN_NAME} {forged}\n", [key])


def test_cosigned_checkpoint_verifies_with_either_key_and_ignores_unknown(signer: Signer,
                                                                          key: NoteVerifierKey) -> None:
    witness = Signer.from_seed(b"\x09" * 32)
    note = sign_checkpoint(Checkpoint(GOLDEN_NAME, 5, b"\x02" * 32, ("ext line",)), GOLDEN_NAME, signer)
    cosigned = add_signature(note, "witness.example", witness)
    assert cosigned.startswith(note) and cosigned.count("\u2014 ") == 2
    witness_key = NoteVerifierKey("witness.example", witness.public_key_bytes)
    assert verify_checkpoint(cosigned, [key]).size == 5
    assert verify_checkpoint(cosigned, [witness_key]).extensions == ("ext line",)
    assert add_signature(cosigned, "witness.example", witness) == cosigned


def test_origin_mismatch_is_refused(key: NoteVerifierKey, golden: str) -> None:
    with pytest.raises(CheckpointOriginError, match="expected origin other.example/log"):
        verify_checkpoint(golden, [key], origin="other.example/log")


def test_body_lists_extensions_after_the_root() -> None:
    body = Checkpoint("o", 0, b"\x00" * 32, ("a b", "c")).body()
    assert body == b"o\n0\n" + base64.b64encode(b"\x00" * 32) + b"\na b\nc\n"


@pytest.mark.parametrize("kwargs", [
    {"origin": ""}, {"origin": "a\nb"}, {"size": -1}, {"size": 1 << 64}, {"size": True},
    {"root_hash": b"\x00" * 31}, {"extensions": ("",)}, {"extensions": ("x\r",)},
])
def test_invalid_checkpoint_values_are_refused(kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {"origin": "o", "size": 1, "root_hash": b"\x00" * 32, **kwargs}
    with pytest.raises(CheckpointFormatError):
        Checkpoint(**values)  # type: ignore[arg-type]


def _golden_variant(golden: str, old: str, new: str) -> str:
    assert old in golden
    return golden.replace(old, new, 1)


ROOT_B64 = base64.b64encode(CT_ROOT_8).decode()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda g: g.replace("==\n\n", "==\n", 1).replace("=\n\n", "=\n", 1), "blank line"),
    (lambda g: _golden_variant(g, "\n8\n", "\neight\n"), "decimal"),
    (lambda g: _golden_variant(g, "\n8\n", "\n08\n"), "decimal"),
    (lambda g: _golden_variant(g, "\n8\n", "\n-8\n"), "decimal"),
    (lambda g: _golden_variant(g, "\n8\n", "\n\n"), "blank|empty|needs"),
    (lambda g: _golden_variant(g, ROOT_B64, ROOT_B64.rstrip("=")), "base64"),
    (lambda g: _golden_variant(g, ROOT_B64, "!" + ROOT_B64[1:]), "base64"),
    (lambda g: _golden_variant(g, ROOT_B64, ROOT_B64[:-2] + "h="), "canonical"),
    (lambda g: _golden_variant(g, ROOT_B64, base64.b64encode(b"\x00" * 31).decode()), "32 bytes"),
    (lambda g: _golden_variant(g, "\u2014 ", "-- "), "em dash"),
    (lambda g: g[:-1], "newline"),
    (lambda g: g.replace("\n", "\r\n"), "control"),
    (lambda g: "\n" + g.split("\n", 1)[1], "body|empty"),
    (lambda g: g.split("\n\n")[0] + "\n\n", "no signature"),
    (lambda g: g + "\u2014 a+b AAAAAAAA\n", "name"),
    (lambda g: g + "\u2014 short AAAA\n", "too short"),
    (lambda g: g + "\u2014 nosig\n", "no base64 signature"),
    (lambda g: g + "\u2014 x AAAAAAAA\n" * 100, "more than 100"),
    (lambda g: g + "x" * (1 << 20), "larger than"),
])
def test_malformed_notes_are_refused_with_format_error(key: NoteVerifierKey, golden: str, edit: object,
                                                       message: str) -> None:
    text = edit(golden)  # type: ignore[operator]
    with pytest.raises(CheckpointFormatError, match=message) as info:
        verify_checkpoint(text, [key])
    assert info.value.code == "checkpoint_format"
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("vkey", [
    GO_VKEY.replace("c74f20a3", "c74f20a4"),                          # altered hint
    GO_VKEY.replace("+ARpc", "+AhpC"),                               # wrong algorithm byte
    "PeterNeumann+c74f20a3",
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
])
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(CheckpointFormatError):
        NoteVerifierKey.from_vkey(vkey)


def test_sign_note_refuses_text_without_final_newline_or_with_blank_line(signer: Signer) -> None:
    with pytest.raises(CheckpointFormatError):
        sign_note("no newline", "n", signer)
    with pytest.raises(CheckpointFormatError):
        sign_note("a\n\nb\n", "n", signer)
    with pytest.raises(CheckpointFormatError):
        sign_checkpoint(Checkpoint("o", 1, b"\x00" * 32), "bad name", signer)


_line_text = st.text(st.characters(min_codepoint=0x20, exclude_characters="\x7f", exclude_categories=("Cs",)),
                     min_size=1, max_size=40)


@settings(max_examples=80, deadline=None)
@given(_line_text, st.integers(0, (1 << 64) - 1), st.binary(min_size=32, max_size=32),
       st.lists(_line_text, max_size=3))
def test_any_signed_checkpoint_parses_back_to_itself(origin: str, size: int, root: bytes,
                                                     extensions: list[str]) -> None:
    signer = Signer.from_seed(GOLDEN_SEED)
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    note = sign_checkpoint(checkpoint, "log", signer)
    assert verify_checkpoint(note, [NoteVerifierKey("log", signer.public_key_bytes)]) == checkpoint


def test_lone_surrogate_in_a_line_is_refused_not_crashing() -> None:
    with pytest.raises(CheckpointFormatError, match="not valid Unicode"):
        Checkpoint(origin="example.com/log", size=1, root_hash=b"\x00" * 32, extensions=("\ud800",))
