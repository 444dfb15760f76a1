"""The evidence dossier: a package a regulator or the police can check.

``build_dossier`` writes, for one case:

- ``dossier.zip`` (or ``dossier-part1.zip``, ``dossier-part2.zip``... each under
  ``max_bytes``, Telegram's 50 MB upload limit by default): every evidence file, numbered
  (``001-screenshot-2026-11-02.png``), images without their metadata (GPS...) but with their
  pixels, message texts as UTF-8 ``.txt`` with the private numbers the user did not
  choose to show masked (the manifest keeps the original's SHA-256, the redacted copy's and
  the spans masked, never their values); the documents of the case's destinations, in
  their order, each in the language of the bodies that read it and in the user's, and the
  evidence index (rendered, masked); ``README.txt``; ``report.pdf``; ``manifest.json``
  with the SHA-256 of every original (as recorded at receipt) and of every exported file;
  and ``manifest.sig``, the installation's Ed25519 signature of ``manifest.json``'s exact
  bytes (``bot.signing``). Each part of a split dossier carries the full manifest, its
  signature and its own subset (``manifest-partN.json``).
- ``report.pdf`` (also inside the ZIP): cover (with the signing key's fingerprint),
  evidence index, thumbnails (an image too large to decode safely has none, and the report
  says so), timeline chart (dated evidence only) in the user's language, and the first
  destination's document in its readers' language, its font embedded.

``bot.verify`` checks a dossier against its manifest and signature. Modules: ``build`` (the
stages), ``files`` (names, export of one item), ``images`` (metadata removal, thumbnails,
the limits of decoding), ``archive`` (ZIP parts), ``manifest``, ``chart``, ``pdf``.
"""

from bot.dossier.archive import PartTooSmall
from bot.dossier.build import Dossier, Progress, build_dossier

__all__ = ["Dossier", "PartTooSmall", "Progress", "build_dossier"]
