#!/usr/bin/env bash
# Assembles real photos for calibration under calibration/images/ (not committed), from package
# registries only:
#   imagenet/         20 ImageNet validation JPEGs, label in the file name   foolbox==3.3.4 (PyPI, MIT)
#   photos/skimage/   scikit-image's sample photos                  scikit-image==0.26.0 (PyPI, BSD-3;
#                                                                    image credits in skimage/data/README)
#   photos/opencv/    OpenCV's sample images                        Debian opencv-doc (Apache-2.0)
# photos/ is for calibrating the ImageNet models evaluated on imagenet/.
# Usage: calibration/fetch-images.sh [OUT]    (default OUT: calibration/images)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/images}"
cache="${CNNQ_CACHE:-$HOME/.cache/cnnq}"
mkdir -p "$cache" "$out"/{imagenet,photos/skimage,photos/opencv}

pip download --quiet --no-deps --only-binary=:all: -d "$cache" foolbox==3.3.4 scikit-image==0.26.0
unzip -q -o -j "$cache"/foolbox-3.3.4-py3-none-any.whl 'foolbox/data/imagenet_*' -d "$out/imagenet"
# Photographs only: not the synthetic test patterns, microscopy or astronomy images.
photos="astronaut.png chelsea.png coffee.png motorcycle_left.png motorcycle_right.png rocket.jpg horse.png
        brick.png grass.png gravel.png color.png camera.png coins.png moon.png page.png text.png"
for f in $photos; do unzip -q -o -j "$cache"/scikit_image-0.26.0-*.whl "skimage/data/$f" -d "$out/photos/skimage"; done

if [ -d /usr/share/doc/opencv-doc/examples/data ]; then
    data=/usr/share/doc/opencv-doc/examples/data
else
    (cd "$cache" && { apt-get download opencv-doc >/dev/null 2>&1 || { apt-get update -qq && apt-get download opencv-doc >/dev/null; }; } \
        && dpkg-deb -x opencv-doc_*.deb opencv-doc)
    data="$cache/opencv-doc/usr/share/doc/opencv-doc/examples/data"
fi
find "$data" -maxdepth 1 \( -iname '*.jpg' -o -iname '*.png' \) -size +20k -exec cp {} "$out/photos/opencv/" \;
echo "$(find "$out" -type f | wc -l) images in $out"
