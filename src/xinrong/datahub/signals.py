"""Signals other apps subscribe to; the data hub never imports the apps that read its facts."""

from django.dispatch import Signal

# Sent after a batch completed (its facts are visible). Keyword arguments: batch_id.
# Receivers must only schedule work (e.g. enqueue a task), never do it inline.
batch_completed = Signal()
