// Image file decoding and the crop policies of image folders.
#include "image_io.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include <libexif/exif-data.h>
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <turbojpeg.h>

namespace mp {

namespace detail {

namespace {

uint16_t be16(const uint8_t* p) {
    return uint16_t((p[0] << 8) | p[1]);
}

uint32_t be32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

uint32_t le32(const uint8_t* p) {
    return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0];
}

/// Images above this many pixels are refused: one would take over 1 GB decoded in RGB.
constexpr int64_t kMaxImagePixels = int64_t(1) << 28;

std::string tooLarge(int64_t width, int64_t height) {
    return "image of " + std::to_string(width) + "x" + std::to_string(height) + " is too large (" +
           std::to_string(width * height) + " pixels; the limit is " + std::to_string(kMaxImagePixels) + ")";
}

bool isSof(uint8_t m) {
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

int exifOrientation(const uint8_t* payload, size_t size) {
    ExifData* ed = exif_data_new_from_data(payload, unsigned(size));
    if (!ed) return 1;
    int o = 1;
    if (ExifEntry* e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION))
        if (e->format == EXIF_FORMAT_SHORT && e->components >= 1)
            o = exif_get_short(e->data, exif_data_get_byte_order(ed));
    exif_data_unref(ed);
    return o >= 1 && o <= 8 ? o : 1;
}

// Walks the JPEG markers up to the first scan: frame size and components, and the EXIF
// orientation.
std::string probeJpeg(const uint8_t* d, size_t n, ImageHeader& h) {
    h.kind = "JPEG";
    size_t at = 2;
    bool frame = false;
    while (at + 4 <= n) {
        if (d[at] != 0xFF) return frame ? std::string() : "corrupt JPEG markers";
        while (at < n && d[at] == 0xFF)
            ++at;
        if (at >= n) break;
        const uint8_t m = d[at++];
        if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;
        if (m == 0xD9 || m == 0xDA) break;
        if (at + 2 > n) break;
        const size_t len = be16(d + at);
        if (len < 2) return "corrupt JPEG marker length";
        const uint8_t* payload = d + at + 2;
        const size_t avail = std::min(len - 2, n - std::min(n, at + 2));
        if (m == 0xE1 && avail >= 6 && std::memcmp(payload, "Exif\0\0", 6) == 0 && avail == len - 2)
            h.orientation = exifOrientation(payload, avail);
        if (isSof(m)) {
            if (avail < 6) break;
            h.height = be16(payload + 1);
            h.width = be16(payload + 3);
            const int comps = payload[5];
            if (comps != 1 && comps != 3 && comps != 4)
                return "JPEG with " + std::to_string(comps) + " components";
            h.colour = comps != 1;
            h.cmyk = comps == 4;
            frame = true;
        }
        at += len;
    }
    if (!frame) return "truncated";
    if (h.width <= 0 || h.height <= 0) return "JPEG without a frame size";
    if (h.orientation >= 5) std::swap(h.width, h.height);
    return {};
}

// Turns the decoded (stored) orientation into the displayed one (EXIF 2.3 orientation tag).
void applyOrientation(Image& img, int orientation) {
    if (orientation <= 1) return;
    const int W = img.width, H = img.height, C = img.channels;
    const bool swap = orientation >= 5;
    const int ow = swap ? H : W, oh = swap ? W : H;
    std::vector<uint8_t> out(img.pixels.size());
    for (int y = 0; y < oh; ++y)
        for (int x = 0; x < ow; ++x) {
            int sx = x, sy = y;
            switch (orientation) {
            case 2:
                sx = W - 1 - x;
                break;
            case 3:
                sx = W - 1 - x;
                sy = H - 1 - y;
                break;
            case 4:
                sy = H - 1 - y;
                break;
            case 5:
                sx = y;
                sy = x;
                break;
            case 6:
                sx = y;
                sy = H - 1 - x;
                break;
            case 7:
                sx = W - 1 - y;
                sy = H - 1 - x;
                break;
            case 8:
                sx = W - 1 - y;
                sy = x;
                break;
            default:
                break;
            }
            std::memcpy(&out[(size_t(y) * ow + x) * C], &img.pixels[(size_t(sy) * W + sx) * C],
                        size_t(C));
        }
    img.pixels.swap(out);
    img.width = ow;
    img.height = oh;
}

tjscalingfactor scaleFor(int width, int height, int minShorter) {
    int n = 0;
    const tjscalingfactor* f = tjGetScalingFactors(&n);
    tjscalingfactor best{1, 1};
    if (minShorter <= 0) return best;
    const int shorter = std::min(width, height);
    for (int i = 0; i < n; ++i) {
        if (f[i].num > f[i].denom) continue;
        if (TJSCALED(shorter, f[i]) >= minShorter &&
            double(f[i].num) / f[i].denom < double(best.num) / best.denom)
            best = f[i];
    }
    return best;
}

struct TurboHandle {
    tjhandle h = tjInitDecompress();
    ~TurboHandle() {
        if (h) tjDestroy(h);
    }
};

std::string decodeJpegTurbo(const uint8_t* data, size_t size, const ImageHeader& hd, int channels,
                            int minShorter, Image& out) {
    thread_local TurboHandle th;
    if (!th.h) return "cannot start libjpeg-turbo";
    int w = 0, h = 0, sub = 0, cs = 0;
    if (tjDecompressHeader3(th.h, data, static_cast<unsigned long>(size), &w, &h, &sub, &cs) != 0)
        return std::string("not a decodable JPEG (") + tjGetErrorStr2(th.h) + ")";
    const tjscalingfactor sf = scaleFor(w, h, minShorter);
    const int sw = TJSCALED(w, sf), sh = TJSCALED(h, sf);
    const bool cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
    const int pf = cmyk ? TJPF_CMYK : channels == 1 ? TJPF_GRAY : TJPF_RGB;
    const int bpp = tjPixelSize[pf];
    std::vector<uint8_t> px(size_t(sw) * sh * bpp);
    if (tjDecompress2(th.h, data, static_cast<unsigned long>(size), px.data(), sw, 0, sh, pf, 0) !=
        0) {
        const std::string why = tjGetErrorStr2(th.h);
        // Warnings are accepted as libjpeg (and PIL) accept them, except a cut-off file.
        if (tjGetErrorCode(th.h) != TJERR_WARNING || why.find("Premature end") != std::string::npos)
            return "corrupt JPEG (" + why + ")";
    }
    out.width = sw;
    out.height = sh;
    out.channels = channels;
    if (cmyk) {
        out.pixels.resize(size_t(sw) * sh * channels);
        for (size_t i = 0; i < size_t(sw) * sh; ++i) {
            // Samples are taken as Adobe's inverted CMYK (255 - ink) with or without the Adobe
            // marker, as PIL reads every CMYK JPEG ("CMYK;I"), so a file gives the pixels that
            // torchvision's ImageFolder gives. Photoshop, which writes most CMYK JPEGs, inverts.
            const uint8_t* v = &px[i * 4];
            int rgb[3];
            for (int k = 0; k < 3; ++k)
                rgb[k] = (v[k] * v[3] + 127) / 255;
            if (channels == 3)
                for (int k = 0; k < 3; ++k)
                    out.pixels[i * 3 + k] = uint8_t(rgb[k]);
            else
                out.pixels[i] = uint8_t((299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] + 500) / 1000);
        }
    } else {
        out.pixels.swap(px);
    }
    applyOrientation(out, hd.orientation);
    return {};
}

} // namespace

std::string probeImage(const uint8_t* d, size_t n, ImageHeader& h) {
    h = ImageHeader{};
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) {
        const std::string why = probeJpeg(d, n, h);
        return why.empty() && int64_t(h.width) * h.height > kMaxImagePixels ? tooLarge(h.width, h.height) : why;
    }
    if (n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        h.kind = "PNG";
    else if (n >= 2 && d[0] == 'B' && d[1] == 'M')
        h.kind = "BMP";
    else if (n >= 2 && d[0] == 'P' && (d[1] == '5' || d[1] == '6'))
        h.kind = "PNM";
    else
        return "not a JPEG, PNG, BMP or binary PGM/PPM file";
    // The size limit from the header's own fields, before stb_image, which refuses a large image
    // as if its header were cut off ("truncated") for some colour types.
    int64_t fw = 0, fh = 0;
    if (h.kind == "PNG" && n >= 24 && std::memcmp(d + 12, "IHDR", 4) == 0) {
        fw = be32(d + 16);
        fh = be32(d + 20);
    } else if (h.kind == "BMP" && n >= 26) {
        fw = std::abs(int64_t(int32_t(le32(d + 18))));
        fh = std::abs(int64_t(int32_t(le32(d + 22)))); // negative: rows stored top-down
    }
    if (fw * fh > kMaxImagePixels) return tooLarge(fw, fh);
    int w = 0, ht = 0, comp = 0;
    if (!stbi_info_from_memory(d, int(std::min<size_t>(n, 1u << 30)), &w, &ht, &comp))
        return "truncated";
    if (int64_t(w) * ht > kMaxImagePixels) return tooLarge(w, ht);
    h.width = w;
    h.height = ht;
    h.colour = comp >= 3;
    h.alpha = comp == 2 || comp == 4;
    h.sixteenBit = stbi_is_16_bit_from_memory(d, int(std::min<size_t>(n, 1u << 30))) != 0;
    return {};
}

std::string decodeImage(const uint8_t* data, size_t size, int channels, int minShorter, bool turbo,
                        Image& out) {
    ImageHeader hd;
    std::string why = probeImage(data, size, hd);
    if (!why.empty())
        return why == "truncated"
                   ? "truncated " + (hd.kind.empty() ? std::string("image") : hd.kind) + " header"
                   : why;
    if (int64_t(hd.width) * hd.height > kMaxImagePixels) return tooLarge(hd.width, hd.height);
    if (hd.kind == "JPEG" && turbo)
        return decodeJpegTurbo(data, size, hd, channels, minShorter, out);
    int w = 0, h = 0, comp = 0;
    uint8_t* px = stbi_load_from_memory(data, int(size), &w, &h, &comp, channels);
    if (!px) return "corrupt " + hd.kind + " (" + stbi_failure_reason() + ")";
    out.width = w;
    out.height = h;
    out.channels = channels;
    out.pixels.assign(px, px + size_t(w) * h * channels);
    stbi_image_free(px);
    applyOrientation(out, hd.orientation);
    return {};
}

void decodedSize(const ImageHeader& hd, int minShorter, int& width, int& height) {
    width = hd.width;
    height = hd.height;
    if (hd.kind != "JPEG") return;
    const tjscalingfactor sf = scaleFor(hd.width, hd.height, minShorter);
    width = TJSCALED(hd.width, sf);
    height = TJSCALED(hd.height, sf);
}

std::string readWholeFile(const std::string& path, std::vector<uint8_t>& bytes) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return std::string("cannot open (") + std::strerror(errno) + ")";
    std::fseek(f, 0, SEEK_END);
    const long n = std::ftell(f);
    std::fseek(f, 0, SEEK_SET);
    bytes.resize(n > 0 ? size_t(n) : 0);
    const size_t got = n > 0 ? std::fread(bytes.data(), 1, bytes.size(), f) : 0;
    std::fclose(f);
    if (n <= 0) return "empty file";
    if (got != bytes.size()) return "read error";
    return {};
}

int neededShorterSide(ViewPolicy policy, int outHeight, int outWidth) {
    const double side = std::max(outHeight, outWidth);
    switch (policy) {
    case ViewPolicy::Eval:
        return int(std::ceil(side / 0.875));
    case ViewPolicy::TrainCentre:
        return int(side);
    case ViewPolicy::TrainAugment:
        return int(std::ceil(side / std::sqrt(0.08 * 0.75)));
    }
    return int(side);
}

} // namespace detail

CropBox cropBox(ViewPolicy policy, int W, int H, int outHeight, int outWidth, uint64_t seed) {
    CropBox b;
    if (policy == ViewPolicy::TrainAugment) {
        // torchvision.transforms.RandomResizedCrop.get_params, then RandomHorizontalFlip.
        std::mt19937_64 rng(seed);
        std::uniform_real_distribution<double> area(0.08, 1.0),
            logRatio(std::log(3.0 / 4), std::log(4.0 / 3));
        const double total = double(W) * H;
        bool found = false;
        for (int attempt = 0; attempt < 10 && !found; ++attempt) {
            const double target = total * area(rng);
            const double aspect = std::exp(logRatio(rng));
            const int w = int(std::lround(std::sqrt(target * aspect)));
            const int h = int(std::lround(std::sqrt(target / aspect)));
            if (w > 0 && w <= W && h > 0 && h <= H) {
                b.y = double(std::uniform_int_distribution<int>(0, H - h)(rng));
                b.x = double(std::uniform_int_distribution<int>(0, W - w)(rng));
                b.w = w;
                b.h = h;
                found = true;
            }
        }
        if (!found) {
            const double ratio = double(W) / H;
            int w = W, h = H;
            if (ratio < 3.0 / 4)
                h = int(std::lround(w / (3.0 / 4)));
            else if (ratio > 4.0 / 3)
                w = int(std::lround(h * (4.0 / 3)));
            b.w = w;
            b.h = h;
            b.y = double((H - h) / 2);
            b.x = double((W - w) / 2);
        }
        b.flip = std::bernoulli_distribution(0.5)(rng);
        return b;
    }
    // Scale s maps the image onto the output; the box is the output seen at that scale.
    const double margin = policy == ViewPolicy::Eval ? 0.875 : 1.0;
    const double s = std::max(outHeight / (margin * H), outWidth / (margin * W));
    b.w = outWidth / s;
    b.h = outHeight / s;
    b.x = (W - b.w) / 2;
    b.y = (H - b.h) / 2;
    return b;
}

void renderCrop(const uint8_t* pixels, int width, int height, int channels, int imageWidth,
                int imageHeight, const CropBox& box, int outHeight, int outWidth, uint8_t* out) {
    const float s0 = float(box.x / imageWidth), t0 = float(box.y / imageHeight);
    const float s1 = float((box.x + box.w) / imageWidth), t1 = float((box.y + box.h) / imageHeight);
    stbir_resize_region(pixels, width, height, 0, out, outWidth, outHeight, 0, STBIR_TYPE_UINT8,
                        channels, STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, STBIR_EDGE_CLAMP,
                        STBIR_FILTER_DEFAULT, STBIR_FILTER_DEFAULT, STBIR_COLORSPACE_LINEAR,
                        nullptr, s0, t0, s1, t1);
    if (!box.flip) return;
    for (int y = 0; y < outHeight; ++y) {
        uint8_t* row = out + size_t(y) * outWidth * channels;
        for (int a = 0, b = outWidth - 1; a < b; ++a, --b)
            std::swap_ranges(row + size_t(a) * channels, row + size_t(a + 1) * channels,
                             row + size_t(b) * channels);
    }
}

} // namespace mp
