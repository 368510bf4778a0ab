"""What the assistant forgets, and when.

- ``transcripts``: the retention period (``TRANSCRIPT_RETENTION_DAYS``): conversations whose
  last message is older are deleted by a daily job, in Rasa's tracker store and in the portal
  (index rows hold the tenant's redacted texts, verification records name the conversation).
- ``household``: an administrator erases one household on request (right to erasure): its
  conversations and the portal data no law obliges the landlord to keep.
- ``conversations``: the deletion both share, tracker store first, portal rows last, so that a
  failure half-way leaves the portal rows that let the next run find what is left.
- ``tracker_writes``: the only code that deletes from the tracker store (everything else in the
  console reads it through a read-only engine).
"""
