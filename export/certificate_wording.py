"""The words of a disposition certificate: English for NARA, Bahasa Indonesia for a JRA berita acara."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from export.certificate_model import Certificate
from export.indonesian import date_in_words
from export.text import visible

EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
EN_TITLES = {"destroy": "Certificate of Destruction", "transfer": "Certificate of Transfer",
             "accession": "Certificate of Accession"}
EN_DONE = {"destroy": "destroyed", "transfer": "transferred", "accession": "accessioned"}
# Penyusutan arsip (UU 43/2009): pemusnahan = destruction, pemindahan = moving inactive records to the
# records unit, penyerahan = handing static (permanent) records to ANRI or a regional archive.
ID_NOUNS = {"destroy": "Pemusnahan", "transfer": "Pemindahan", "accession": "Penyerahan"}
ID_DONE = {"destroy": "Dimusnahkan", "transfer": "Dipindahkan", "accession": "Diserahkan"}


@dataclass(frozen=True)
class Wording:
    """Every fixed phrase of one certificate, in one language."""

    language: str
    title: str
    intro: str
    fields: tuple[str, ...]  # batch, archive, agency, profile/action, created, executed, executed by, schedule
    approvals: str
    no_approvals: str
    reference: str
    summary: str
    item_line: str  # "{item}", "{title}", "{authority}", "{records}"
    totals: tuple[str, str, str, str]  # records, versions, objects deleted, objects written
    integrity: tuple[str, ...]  # heading, log size, log root, list key, list sha256, list count, body sha, key, sig
    verify_note: str
    signatures: str
    executed_heading: str
    approved_heading: str
    signed_note: str  # "{at}" is the time of the recorded approval or execution
    list_title: str
    columns: tuple[str, ...]
    more: str  # "{count}" and "{key}"
    mismatch: str  # "{listed}" and "{count}"
    closing: str
    page_footer: str


def wording(cert: Certificate) -> Wording:
    return _indonesian(cert.action) if cert.profile == "jra" else _english(cert.action)


def _english(action: str) -> Wording:
    done = EN_DONE[action]
    return Wording(
        language="en", title=EN_TITLES[action],
        intro="Printed rendering of a signed Arsip disposition certificate. The signed JSON certificate is the "
              "evidence; where the two differ, the JSON prevails.",
        fields=("Batch", "Archive", "Agency", "Profile / action", "Created", "Executed", "Executed by",
                "Schedule fingerprint"),
        approvals="Approvals", no_approvals="No approvals are recorded in this certificate.", reference="reference",
        summary="Summary by schedule item", item_line="{item}: {title}. Authority {authority}; {records} records.",
        totals=(f"Records {done}", "Versions", "Objects deleted", "Objects written (compaction)"),
        integrity=("Integrity and verification", "Merkle log size", "Merkle log root", "Record list",
                   "Record list SHA-256", "Records in list", "Certificate body SHA-256 (RFC 8785)", "Signing key id",
                   "Signature (Ed25519, base64)"),
        verify_note="To verify: canonicalize the JSON certificate body with RFC 8785, check that its SHA-256 "
                    "matches the value above, and verify the Ed25519 signature over those bytes with the public key "
                    "of the key id above. The record list's SHA-256 is signed inside the body.",
        signatures="Signatures", executed_heading="Executed by", approved_heading="Approved by",
        signed_note="recorded electronically {at}",
        list_title=f"Records {done}",
        columns=("No.", "Record ID", "Platform ID", "Kind", "Schedule item", "Eligible on", "Versions",
                 "First SHA-256"),
        more="... and {count} more records, listed in the signed record list {key}.",
        mismatch="Note: {listed} records were supplied for this listing, but the certificate states {count}.",
        closing="", page_footer="Page")


def _indonesian(action: str) -> Wording:
    noun, done = ID_NOUNS[action], ID_DONE[action]
    return Wording(
        language="id", title=f"Berita Acara {noun} Arsip",
        intro="Salinan cetak sertifikat disposisi Arsip yang ditandatangani secara elektronik. Sertifikat JSON "
              "bertanda tangan adalah bukti yang sah; bila terdapat perbedaan, yang berlaku adalah JSON.",
        fields=("Nomor", "Sistem arsip elektronik", "Instansi", "Profil / tindakan", "Dibuat", "Dilaksanakan",
                "Pelaksana", "Sidik jadwal retensi"),
        approvals="Persetujuan", no_approvals="Tidak ada persetujuan yang tercatat dalam sertifikat ini.",
        reference="Persetujuan Kepala ANRI nomor", summary="Rincian per item Jadwal Retensi Arsip (JRA)",
        item_line="{item}: {title}. Dasar kewenangan {authority}; {records} arsip.",
        totals=(f"Jumlah arsip yang {done.lower()}", "Jumlah versi", "Objek yang dihapus",
                "Objek yang ditulis (pemadatan)"),
        integrity=("Integritas dan verifikasi", "Ukuran log Merkle", "Akar (root) log Merkle", "Daftar arsip",
                   "SHA-256 daftar arsip", "Jumlah arsip dalam daftar", "SHA-256 badan sertifikat (RFC 8785)",
                   "ID kunci penanda tangan", "Tanda tangan (Ed25519, base64)"),
        verify_note="Cara verifikasi: kanonikalisasi badan sertifikat JSON menurut RFC 8785, cocokkan SHA-256-nya "
                    "dengan nilai di atas, lalu verifikasi tanda tangan Ed25519 atas byte tersebut dengan kunci publik "
                    "dari ID kunci di atas. SHA-256 daftar arsip ikut ditandatangani di dalam badan sertifikat.",
        signatures="Tanda tangan", executed_heading="Pelaksana,", approved_heading="Menyetujui,",
        signed_note="tercatat secara elektronik {at}",
        list_title=f"Daftar Arsip yang {done}",
        columns=("No.", "ID arsip", "ID platform", "Jenis", "Item JRA", "Habis retensi", "Versi", "SHA-256 awal"),
        more="... dan {count} arsip lainnya tercantum dalam daftar arsip bertanda tangan {key}.",
        mismatch="Catatan: daftar yang diberikan memuat {listed} arsip, sedangkan sertifikat menyatakan {count}.",
        closing="Demikian Berita Acara ini dibuat dengan sebenarnya untuk dipergunakan sebagaimana mestinya.",
        page_footer="Halaman")


def statement(cert: Certificate) -> list[str]:
    """The opening paragraphs, in the profile's language."""
    return _statement_id(cert) if cert.profile == "jra" else _statement_en(cert)


def _statement_en(cert: Certificate) -> list[str]:
    agency = f" for {visible(cert.agency)}" if cert.agency else ""
    lines = [f"On {english_time(cert.executed_at)}, {visible(cert.executed_by)} executed disposition batch "
             f"{visible(cert.batch_id)} in the archive {visible(cert.archive_origin)}{agency}. "
             f"{cert.records} records ({cert.versions} versions) were {EN_DONE[cert.action]} under the disposition "
             "authorities summarised below, with the approvals recorded below. Every record is named in the "
             "signed record list, which is rendered at the end of this certificate."]
    if cert.action == "destroy":
        lines.append("For every destroyed record the archive keeps a tombstone (identity, digests, schedule, "
                     "authority, approver, time) without content, and the Merkle log remains verifiable.")
    return lines


def _statement_id(cert: Certificate) -> list[str]:
    at = cert.executed_at
    agency = f" milik {visible(cert.agency)}" if cert.agency else ""
    noun, done = ID_NOUNS[cert.action].lower(), ID_DONE[cert.action]
    lines = [f"Pada {date_in_words(at)} ({at:%d-%m-%Y}), pukul {at:%H.%M} UTC, telah dilaksanakan {noun} arsip "
             f"media sosial{agency} yang tersimpan dalam sistem arsip elektronik {visible(cert.archive_origin)}, "
             f"nomor {visible(cert.batch_id)}, oleh {visible(cert.executed_by)}, berdasarkan Jadwal Retensi Arsip "
             "(JRA) dan persetujuan sebagaimana dirinci di bawah ini.",
             f"Jumlah arsip yang {done.lower()} adalah {cert.records} arsip ({cert.versions} versi), sebagaimana "
             f"tercantum dalam Daftar Arsip yang {done} yang merupakan bagian tidak terpisahkan dari Berita Acara ini."]
    if cert.action == "destroy":
        lines.append("Pemusnahan dilakukan dengan menghapus objek arsip elektronik secara permanen. Untuk setiap "
                     "arsip yang dimusnahkan tetap disimpan tanda (tombstone) berisi identitas, nilai hash, jadwal "
                     "retensi, dasar kewenangan, pemberi persetujuan dan waktu, tanpa isi arsip; log Merkle tetap "
                     "dapat diverifikasi.")
    return lines


def english_time(moment: datetime) -> str:
    """'Monday, 13 January 2025 at 03:30:00 UTC' without depending on the process locale."""
    return (f"{EN_DAYS[moment.weekday()]}, {moment.day} {EN_MONTHS[moment.month - 1]} {moment.year} "
            f"at {moment:%H:%M:%S} UTC")
