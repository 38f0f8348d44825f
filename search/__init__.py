"""Hybrid search over official service pages and community threads.

This package knows nothing about kb/ or forum/: they hand it generic
:class:`search.documents.Document` objects through providers registered in
:mod:`search.registry`, and write to the outbox (:mod:`search.outbox`) in the
same transaction as their own changes.
"""
