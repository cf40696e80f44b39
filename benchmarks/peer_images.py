"""The calibration images both peers read, prepared as cnn-quantize's torchvision preset does
before each peer normalises them its own way."""
from PIL import Image


def calibration_paths(folder, samples):
    """The first `samples` JPEG/PNG files under `folder`, sorted; exits when there are none."""
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not paths:
        raise SystemExit(f"no images in {folder}")
    return paths[:samples]


def centre_crop(path, size):
    """The image's shorter side scaled to size·256/224 (bilinear), then its centre size × size, RGB."""
    image = Image.open(path).convert("RGB")
    short = round(size * 256 / 224)
    w, h = image.size
    scale = short / min(w, h)
    image = image.resize((max(short, round(w * scale)), max(short, round(h * scale))), Image.BILINEAR)
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    return image.crop((left, top, left + size, top + size))
