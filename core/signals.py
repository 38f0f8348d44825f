"""Domain events: named blinker signals, the one way packages react to each
other's changes.

A service function sends an event at the point the change is decided,
*inside* its write transaction, so subscribers that write rows (the search
outbox, in-app notifications, the mail outbox) commit or roll back with the
change itself (a transactional outbox).  Subscribers must stay cheap: a few
reads and inserts, never rendering, hashing, encoding or sending mail (the
mail worker composes and sends later, outside any request).

Conventions for every event:

* the sender is the changed object (a question, an answer, a service...);
* ``actor``: the user who acted (None for content loads and the system);
* ``doc_ids``: plain search document ids that changed (``"question:5"``,
  ``"service:ktp-el"``); search subscribes to every event and indexes them,
  so kb/ and forum/ never import search;
* ``seeded``: True for content loaded from ``content/`` (nobody is notified
  about seed threads).

Who subscribes (connected in :func:`subscribe_all`, called by the app
factory): ``search.subscribers`` (indexing), ``forum.subscribers`` (answers
that may be outdated when a page or regulation changes, promoted answers,
related questions on service pages), ``analytics.subscribers`` (the ask
funnel, the search log) and ``notify.subscribers`` (follows, in-app
notifications, e-mail).
"""
from __future__ import annotations

import importlib

from blinker import Namespace

events = Namespace()

# ---------------------------------------------------------------- forum

question_asked = events.signal("pertanyaan-diajukan", doc="""\
Pertanyaan baru terbit.  sender: Question; question, actor, seeded, doc_ids.""")

answer_posted = events.signal("jawaban-dikirim", doc="""\
Jawaban baru terbit.  sender: Answer; answer, question, actor, seeded, doc_ids.""")

answer_accepted = events.signal("jawaban-diterima", doc="""\
Penanya menerima (atau membatalkan) sebuah jawaban.  sender: Answer; answer,
question, actor, accepted (False bila dibatalkan), seeded, doc_ids.""")

comment_posted = events.signal("komentar-dikirim", doc="""\
Komentar baru pada pertanyaan atau jawaban.  sender: Comment; comment, post,
question, actor, seeded, doc_ids (kosong: komentar tidak diindeks).""")

user_mentioned = events.signal("pengguna-disebut", doc="""\
Tulisan atau komentar menyebut @nama pengguna (paling banyak 10 per
tulisan, tidak di dalam kode).  Dikirim sebelum event tulisannya, sehingga
penerima yang disebut mendapat satu pemberitahuan "disebut".  sender: Post;
post, question, comment (atau None), user_ids, actor, seeded, doc_ids (kosong).""")

post_edited = events.signal("tulisan-disunting", doc="""\
Pertanyaan atau jawaban disunting (revisi baru).  sender: Post; post, question,
actor, doc_ids.""")

post_moderated = events.signal("tulisan-dimoderasi", doc="""\
Moderator menyembunyikan, memulihkan, menghapus atau menggabungkan.  sender:
Post; post, question, action ('hide', 'restore', 'delete', 'merge'), actor,
doc_ids.""")

content_changed = events.signal("isi-berubah", doc="""\
Dokumen berubah tanpa event domain tersendiri (suara mengubah urutan
jawaban, utas ditutup atau dibuka, entri FAQ, jawaban dipromosikan).
sender: objek yang berubah; actor, doc_ids.""")

# ---------------------------------------------------------------- knowledge base

page_published = events.signal("halaman-terbit", doc="""\
Versi baru halaman layanan terbit (draf yang ditinjau, konfirmasi "masih
berlaku", atau muat konten).  sender: Service; service, created, changed
(kelompok isian yang berubah), source, actor, doc_ids.""")

draft_awaiting_review = events.signal("draf-menunggu-tinjauan", doc="""\
Draf diajukan dan menunggu peninjau (pengelola pengetahuan lain).  sender:
ServiceDraft; draft, service, actor, doc_ids (kosong).""")

draft_reviewed = events.signal("draf-ditinjau", doc="""\
Draf diterbitkan atau ditolak peninjau.  sender: ServiceDraft; draft, service,
outcome ('published' | 'rejected'), actor, doc_ids (kosong).""")

regulation_changed = events.signal("regulasi-berubah", doc="""\
Peraturan di registri menjadi diubah atau dicabut; halaman yang mengutipnya
diberi tanda tinjau.  sender: Regulation; regulation, cited (daftar
(Service, [kelompok isian])), actor, doc_ids (kosong).""")

# ---------------------------------------------------------------- accounts

email_verification_requested = events.signal("verifikasi-email-diminta", doc="""\
Pengguna mengetik alamat email baru (saat daftar atau di halaman akun); alamat
itu menunggu verifikasi lewat tautan bertanda tangan.  sender: User; user,
address_hash (bukan alamatnya).""")

email_address_taken = events.signal("alamat-email-sudah-dipakai", doc="""\
Seseorang memverifikasi alamat yang sudah terverifikasi di akun lain; pemilik
akun itu diberi tahu lewat email.  sender: User (pemilik); owner, doc_ids (kosong).""")

# ---------------------------------------------------------------- page assembly (read side)

service_page_shown = events.signal("halaman-layanan-disusun", doc="""\
Halaman layanan sedang disusun (baca saja, tanpa menulis).  Penerima
mengembalikan dict tambahan konteks templat (forum: pertanyaan terkait).
sender: Service.""")

curation_queue_shown = events.signal("antrean-kurasi-disusun", doc="""\
Beranda /kelola sedang disusun (baca saja).  Penerima mengembalikan dict
tambahan konteks templat (forum: jawaban yang mungkin usang).  sender: app.""")
best_bets_shown = events.signal("pilihan-utama-disusun", doc="""\
Halaman /kelola/pencarian sedang disusun (baca saja).  Penerima mengembalikan
dict tambahan konteks templat (analytics: ``frequent_short_queries``,
pencarian pendek yang paling sering beserta halaman resmi yang paling sering
diklik).  sender: app; days, max_words.""")
page_chrome_shown = events.signal("rangka-halaman-disusun", doc="""\
Templat apa pun sedang disusun (baca saja; context processor aplikasi).
Penerima mengembalikan dict tambahan konteks templat berisi fungsi murah yang
dipanggil templat bersama bila perlu (notify: unread_notifications untuk
kepala halaman, follow_state untuk tombol ikuti).  sender: app.""")

# ---------------------------------------------------------------- search (read side)

search_performed = events.signal("pencarian-dilakukan", doc="""\
Seseorang mencari di /cari atau /api/v1/search (baca saja: penerima hanya
menambah ke penyangga per proses, tidak menulis dalam permintaan ini).
Penerima boleh mengembalikan token catatan pencariannya (analytics: untuk
tautan /klik), atau None; penerima tidak boleh melempar galat.  sender:
Response mesin pencari (sudah disaring untuk pencari); query (teks asli),
source ('page' | 'api').""")


# Every event a write sends (search indexes the doc_ids of all of them).
WRITE_EVENTS = (question_asked, answer_posted, answer_accepted, comment_posted, user_mentioned, post_edited,
                post_moderated, content_changed, page_published, draft_awaiting_review, draft_reviewed,
                regulation_changed, email_verification_requested, email_address_taken)


def first_result(signal, sender, **kwargs):
    """Send a read-side event and return the first receiver's non-empty
    answer (None if no receiver answered)."""
    for _receiver, result in signal.send(sender, **kwargs):
        if result:
            return result
    return None


def collect(signal, sender, **kwargs) -> dict:
    """Send a read-side event and merge the dicts its receivers return."""
    merged: dict = {}
    for _receiver, result in signal.send(sender, **kwargs):
        if result:
            merged.update(result)
    return merged


SUBSCRIBERS = ("search.subscribers", "forum.subscribers", "analytics.subscribers", "notify.subscribers")


def subscribe_all() -> None:
    """Connect every package's receivers (idempotent: blinker keeps one
    connection per receiver).  Each module connects in its ``subscribe()``."""
    for name in SUBSCRIBERS:
        importlib.import_module(name).subscribe()
