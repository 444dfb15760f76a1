"""The OCR engine that reads the screenshots: rapidocr on onnxruntime, offline, in a process
of its own.

The models (PP-OCRv6 small detection and recognition: one multilingual model for Chinese,
English and Spanish) ship inside rapidocr's wheel; their paths are given to the engine, so it
never looks for them elsewhere or downloads anything (rapidocr would fetch a missing or
altered model from the network). Settings measured on chat screenshots: no text-direction
step (screenshots are upright), detection on at most 736 pixels on the long side, one line
recognised at a time (no padding of short lines to the longest of a batch), one thread.

The engine runs in one child process (started at the first picture, the models loaded once,
at a lower priority than the bot), so reading never holds up the bot's own work; a child
that dies is started again for the next picture. What it returns is plain data (:class:`Page`),
kept per content and used again by the export to hide private numbers in the copies.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

DETECTION_SIDE = 736
"""The longest side the text detection looks at (pixels); larger pictures are scaled down
for detection only, recognition reads the lines at full size. Measured on the synthetic
phone screenshots (1080 x 2100-2300, and 540-px downscales): 960 took 0.60 s of detection
per picture, 736 0.35 s, 640 0.24 s, each finding every line; 736 keeps a margin for
smaller text on taller screens."""
READ_LIMIT = 100
"""Pictures one child reads before it is replaced (its memory grows with the sizes seen:
580 MiB after 10 pictures, 710 after 30; a new child loads the models in about 1 s)."""
MAX_PIXELS = 40_000_000
"""Pictures larger than this are not read (a decompression bomb, not a screenshot)."""
NICENESS = 10


@dataclass(frozen=True)
class Word:
    """A run of characters read (a word, or a single character in Chinese), with its box:
    four corners (x, y) in the picture's pixels, clockwise from the top left."""

    text: str
    box: list[list[float]]


@dataclass(frozen=True)
class Line:
    text: str
    box: list[list[float]]
    score: float
    words: list[Word] = field(default_factory=list)
    """The line's characters in smaller boxes; the export covers these to hide a number."""


@dataclass(frozen=True)
class Page:
    """What reading one picture gave."""

    engine: str
    width: int
    height: int
    lines: list[Line]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> Page:
        raw: dict[str, Any] = json.loads(data)
        lines = [
            Line(line["text"], line["box"], line["score"],
                 [Word(w["text"], w["box"]) for w in line.get("words", [])])
            for line in raw["lines"]
        ]  # fmt: skip
        return cls(raw["engine"], raw["width"], raw["height"], lines)


class Unreadable(Exception):
    """The bytes are not a picture that can be read."""


class Engine(Protocol):
    async def read(self, data: bytes) -> Page: ...
    async def close(self) -> None: ...


# -- in the child process ------------------------------------------------------------------

_ENGINE: Any = None


def models_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).parent / "models"


def build_engine() -> Any:
    """The rapidocr engine with the shipped models, no direction step, one thread."""
    from rapidocr import RapidOCR

    models = models_dir()
    return RapidOCR(
        params={
            "Global.use_cls": False,
            "Global.text_score": 0.5,
            "Global.log_level": "warning",
            "Global.return_word_box": True,
            "Det.limit_side_len": DETECTION_SIDE,
            "Rec.rec_batch_num": 1,
            "Det.limit_type": "max",
            "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
            "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )


def _start_child() -> None:
    """Set the child up: below the bot in priority, one thread, the models loaded now."""
    global _ENGINE
    os.environ["OMP_NUM_THREADS"] = "1"
    with contextlib.suppress(OSError):  # not allowed here: read at the same priority
        os.nice(NICENESS)
    _ENGINE = build_engine()


def engine_name() -> str:
    from importlib.metadata import version

    return f"rapidocr {version('rapidocr')}"


def read_picture(data: bytes, engine: Any = None) -> Page:
    """Read one picture (any format Pillow opens; turned upright by its EXIF orientation)."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    engine = engine if engine is not None else _ENGINE
    if engine is None:
        engine = build_engine()
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise Unreadable("too many pixels")
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as error:
        raise Unreadable(type(error).__name__) from None
    pixels = np.asarray(image)[:, :, ::-1]  # the engine takes numpy arrays as BGR
    result = engine(np.ascontiguousarray(pixels))
    lines: list[Line] = []
    texts = result.txts or ()
    words = result.word_results or [()] * len(texts)
    for box, text, score, parts in zip(result.boxes if texts else (), texts, result.scores,
                                       words, strict=False):  # fmt: skip
        lines.append(Line(
            text=str(text),
            box=[[float(x), float(y)] for x, y in box],
            score=round(float(score), 4),
            words=[Word(str(w[0]), [[float(x), float(y)] for x, y in w[2]]) for w in parts],
        ))  # fmt: skip
    return Page(engine_name(), image.width, image.height, lines)


def _read_in_child(data: bytes) -> Page:
    return read_picture(data)


# -- in the bot ----------------------------------------------------------------------------


def _check_picture(data: bytes) -> None:
    """Raise :class:`Unreadable` unless the bytes are a picture Pillow can open."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError,
            SyntaxError) as error:  # fmt: skip
        raise Unreadable(type(error).__name__) from None


class OcrEngine:
    """The engine in a child process, one picture at a time."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = asyncio.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child,
                max_tasks_per_child=READ_LIMIT,
            )
        return self._pool

    async def read(self, data: bytes) -> Page:
        _check_picture(data)  # no child started for what is no picture
        async with self._lock:  # one at a time: the child has one thread
            loop = asyncio.get_running_loop()
            try:
                return await loop.run_in_executor(self._executor(), _read_in_child, data)
            except BrokenProcessPool:
                log.error("the OCR process died; it is started again for the next picture")
                await self.close()
                raise

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
