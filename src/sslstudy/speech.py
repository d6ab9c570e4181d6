"""Speech generated in code: a small, deterministic source–filter synthesiser for CPC (week 5), and MFCCs.

No speech corpus can be had offline (CI, a laptop without data), so week 5 rebuilds the paper's Table 1 on
speech made here from a seed: the same corpus everywhere, in seconds, with the labels the probes need — a
**phone label for every 10 ms hop of 160 samples** (one label per CPC encoding z_t) and a **speaker label per
utterance**.

**How a sound is made (the source–filter model).** A source — a train of glottal pulses at the pitch F0 for
voiced sounds, white noise for fricatives — is shaped by a filter, the vocal tract, whose resonances (the
formants F1, F2, F3) decide which vowel is heard. We filter in the short-time Fourier domain: the source's
STFT is multiplied frame by frame by the spectral envelope of the phone being spoken (a product of
second-order resonances, one per formant, times a spectral tilt), then inverted (``torch.istft``).

**Phones** (:data:`PHONES`, 15 classes): ten American-English vowels with the formant frequencies measured by
Peterson & Barney (1952) for men, women and children (:data:`PETERSON_BARNEY`); a nasal-like voiced murmur
``m``; three fricatives as shaped noise (``s`` high, ``sh`` mid, ``f`` weak and flat); and silence ``sil``.
Durations are 50–150 ms (5–15 hops), scaled by the speaker's rate; the parameter tracks are smoothed across
phone boundaries (≈ 40 ms), so neighbouring phones blend as in coarticulation.

**Speakers** differ in group (man / woman / child: the table's formants and mean F0), pitch (log-normal around
the group's F0), vocal-tract length (a formant scale), their own vowel targets (a few per cent per vowel and
formant), speaking rate, spectral tilt and breathiness. Each utterance adds pitch jitter, a slow intonation
contour, and background noise at a random signal-to-noise ratio.

Source of the vowel numbers: G. E. Peterson and H. L. Barney, "Control methods used in a study of the vowels",
J. Acoust. Soc. Am. 24(2):175–184, 1952, Table II (average formant frequencies, Hz, of 76 speakers: 33 men,
28 women, 15 children). The mean F0 per group (≈ 130 / 220 / 265 Hz) are rounded averages of the same table's
F0 row.

Usage::

    corpus = speech.synthetic_speech(n_speakers=48, utterances_per_speaker=10, seed=0)
    corpus.audio      # (N, L) float32, 16 kHz
    corpus.phones     # (N, L // 160) int64, a label per 10 ms hop
    corpus.speakers   # (N,) int64
    feats = speech.mfcc(corpus.audio)   # (N, L // 160, 13), aligned with corpus.phones
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

SAMPLE_RATE = 16_000
HOP = 160                       # samples per label (10 ms): CPC's encoder downsamples by 5·4·2·2·2 = 160

#: Peterson & Barney (1952), Table II: average F1, F2, F3 (Hz) for men, women and children.
#: Keys are ARPAbet names; the word is the /hVd/ context of the recordings.
PETERSON_BARNEY = {
    # vowel: (word, men (F1, F2, F3), women (F1, F2, F3), children (F1, F2, F3))
    "iy": ("heed", (270, 2290, 3010), (310, 2790, 3310), (370, 3200, 3730)),
    "ih": ("hid", (390, 1990, 2550), (430, 2480, 3070), (530, 2730, 3600)),
    "eh": ("head", (530, 1840, 2480), (610, 2330, 2990), (690, 2610, 3570)),
    "ae": ("had", (660, 1720, 2410), (860, 2050, 2850), (1010, 2320, 3320)),
    "aa": ("hod", (730, 1090, 2440), (850, 1220, 2810), (1030, 1370, 3170)),
    "ao": ("hawed", (570, 840, 2410), (590, 920, 2710), (680, 1060, 3180)),
    "uh": ("hood", (440, 1020, 2240), (470, 1160, 2680), (560, 1410, 3310)),
    "uw": ("who'd", (300, 870, 2240), (370, 950, 2670), (430, 1170, 3260)),
    "ah": ("hud", (640, 1190, 2390), (760, 1400, 2780), (850, 1590, 3360)),
    "er": ("heard", (490, 1350, 1690), (500, 1640, 1960), (560, 1820, 2160)),
}
GROUPS = ("man", "woman", "child")
GROUP_F0 = {"man": 130.0, "woman": 220.0, "child": 265.0}      # Hz, rounded from the same table
GROUP_P = (0.4, 0.4, 0.2)
VOWELS = tuple(PETERSON_BARNEY)
#: the 15 phone classes: 10 vowels, a voiced murmur, three fricatives, silence (label = index)
PHONES = VOWELS + ("m", "s", "sh", "f", "sil")
SIL = PHONES.index("sil")

_BANDWIDTHS = (90.0, 110.0, 170.0)       # formant bandwidths B1..B3 (Hz), typical values for adult vowels
_M_FORMANTS = (280.0, 1150.0, 2400.0)    # the murmur "m": low, damped resonances (man; scaled like the vowels)
_FRICATIVES = {"s": (5200.0, 2600.0, 0.30), "sh": (2800.0, 1500.0, 0.40), "f": (None, None, 0.12)}  # centre, bw, gain
_N_FFT, _SYN_HOP = 256, 80               # synthesis STFT: 16 ms frames every 5 ms (2 per label hop)


@dataclass
class SpeechCorpus:
    """A generated corpus: audio, a phone label per 10 ms hop, a speaker label per utterance.

    ``audio`` (N, L) float32 at ``sample_rate``; ``phones`` (N, L // 160) int64 (indices into ``phone_names``);
    ``speakers`` (N,) int64; ``speaker_info``: one dict per speaker (group, f0, formant scale, rate, tilt,
    breathiness); ``name`` identifies it in run records and checkpoint keys.
    """
    audio: torch.Tensor
    phones: torch.Tensor
    speakers: torch.Tensor
    speaker_info: list = field(default_factory=list)
    phone_names: tuple = PHONES
    sample_rate: int = SAMPLE_RATE
    seed: int = 0
    name: str = "synthetic_speech"

    def __len__(self) -> int:
        return len(self.audio)

    @property
    def num_phones(self) -> int:
        return len(self.phone_names)

    @property
    def num_speakers(self) -> int:
        return len(self.speaker_info)

    def subset(self, index) -> "SpeechCorpus":
        index = torch.as_tensor(index, dtype=torch.long)
        return SpeechCorpus(self.audio[index], self.phones[index], self.speakers[index], self.speaker_info,
                            self.phone_names, self.sample_rate, self.seed, self.name)

    def split(self, test_per_speaker: int) -> tuple["SpeechCorpus", "SpeechCorpus"]:
        """(train, test): the last ``test_per_speaker`` utterances of every speaker go to the test part."""
        test = torch.zeros(len(self), dtype=torch.bool)
        for s in self.speakers.unique():
            rows = (self.speakers == s).nonzero().flatten()
            if len(rows) <= test_per_speaker:
                raise ValueError(f"test_per_speaker={test_per_speaker} leaves speaker {int(s)} with no training "
                                 f"utterance (it has {len(rows)}); choose fewer.")
            test[rows[-test_per_speaker:]] = True
        return self.subset((~test).nonzero().flatten()), self.subset(test.nonzero().flatten())


def _check_int(name: str, value, low: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}={value!r} is not allowed: {what}.")
    return int(value)


def make_speakers(n_speakers: int, rng: np.random.Generator) -> list[dict]:
    """Draw ``n_speakers`` speakers: group, F0, vocal-tract scale, own vowel targets, rate, tilt, breathiness."""
    speakers = []
    for i in range(n_speakers):
        group = GROUPS[rng.choice(3, p=GROUP_P)]
        g = GROUPS.index(group)
        scale = float(np.exp(rng.normal(0, 0.06)))                  # vocal-tract length: all formants × scale
        vowels = {v: [f * scale * float(np.exp(rng.normal(0, 0.05))) for f in PETERSON_BARNEY[v][1 + g]]
                  for v in VOWELS}                                 # this speaker's own targets (idiolect)
        speakers.append({
            "id": i, "group": group, "f0": float(GROUP_F0[group] * np.exp(rng.normal(0, 0.15))),
            "scale": scale, "vowels": vowels,
            "rate": float(np.exp(rng.normal(0, 0.15))),            # > 1: slower (longer phones)
            "tilt": float(rng.uniform(0.6, 1.6)),                  # spectral slope exponent of the voice source
            "breath": float(rng.uniform(0.02, 0.25)),              # noise mixed into voiced sounds
            "gain": float(np.exp(rng.normal(0, 0.3))),
        })
    return speakers


def _phone_sequence(n_hops: int, speaker: dict, rng: np.random.Generator) -> np.ndarray:
    """Phone label per 10 ms hop: (C)V(C) syllables with pauses; durations 50–150 ms scaled by the rate."""
    labels = []
    consonants = [PHONES.index(p) for p in ("m", "s", "sh", "f")]
    state = "sil" if rng.random() < 0.5 else "c"
    while len(labels) < n_hops:
        if state == "sil":
            phone, base = SIL, rng.integers(5, 13)
            state = "c" if rng.random() < 0.6 else "v"
        elif state == "c":
            phone, base = int(rng.choice(consonants)), rng.integers(5, 11)
            state = "v"
        else:
            phone, base = int(rng.integers(len(VOWELS))), rng.integers(6, 16)
            r = rng.random()
            state = "sil" if r < 0.2 else ("c" if r < 0.75 else "v")
        dur = int(np.clip(round(base * speaker["rate"]), 5, 15))
        if labels and labels[-1] == phone:                         # no two identical phones in a row
            continue
        labels += [phone] * dur
    return np.asarray(labels[:n_hops], dtype=np.int64)


def _resonance(f: torch.Tensor, centre: torch.Tensor, bw: float | torch.Tensor) -> torch.Tensor:
    """|H(f)| of a second-order resonator at ``centre`` Hz with bandwidth ``bw``, 1 at 0 Hz."""
    half = torch.as_tensor(bw) / 2
    num = centre ** 2 + half ** 2
    return num / torch.sqrt(((f - centre) ** 2 + half ** 2) * ((f + centre) ** 2 + half ** 2))


def _smooth(track: np.ndarray, width: int) -> np.ndarray:
    """Moving average along axis 0 (a Hann kernel of ``width`` frames), edges held: smooth transitions."""
    if width <= 1:
        return track
    k = np.hanning(width + 2)[1:-1]
    k /= k.sum()
    pad = width // 2
    padded = np.concatenate([np.repeat(track[:1], pad, 0), track, np.repeat(track[-1:], width - 1 - pad, 0)])
    out = np.stack([np.convolve(padded[:, j], k, mode="valid") for j in range(track.shape[1])], 1)
    return out


def synthetic_speech(n_speakers: int = 48, utterances_per_speaker: int = 10, *, seconds: float = 1.28,
                     seed: int = 0, snr_db: tuple = (5.0, 20.0), jitter: float = 0.01,
                     speakers: list | None = None) -> SpeechCorpus:
    """Generate a corpus of ``n_speakers × utterances_per_speaker`` utterances of ``seconds`` each at 16 kHz.

    Deterministic from ``seed`` (numpy's PCG64 for every random draw, so the same corpus on any machine
    and thread count up to float32 rounding). ``seconds`` is rounded down to whole 10 ms hops (1.28 s = 20,480
    samples = 128 hops, the paper's training window). ``snr_db``: the background noise's range of
    signal-to-noise ratios; ``jitter``: the relative pitch jitter per glottal period. ``speakers``: reuse the
    speakers of another corpus (e.g. ``train.speaker_info``) instead of drawing new ones.
    """
    n_speakers = _check_int("n_speakers", n_speakers, 1, "it must be a positive integer")
    per = _check_int("utterances_per_speaker", utterances_per_speaker, 1, "it must be a positive integer")
    seed = _check_int("seed", seed, 0, "it must be a non-negative integer")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not seconds * SAMPLE_RATE >= 4 * HOP:
        raise ValueError(f"seconds={seconds!r} is not allowed: an utterance must last at least 0.04 s (4 hops).")
    if len(snr_db) != 2 or not snr_db[0] <= snr_db[1]:
        raise ValueError(f"snr_db={snr_db!r} is not allowed: it must be a pair (low, high) with low <= high.")
    if not 0 <= jitter < 0.2:
        raise ValueError(f"jitter={jitter!r} is not allowed: it must be in [0, 0.2).")
    rng = np.random.default_rng(seed)
    speakers = make_speakers(n_speakers, rng) if speakers is None else speakers
    if len(speakers) != n_speakers:
        raise ValueError(f"speakers has {len(speakers)} entries but n_speakers={n_speakers}.")
    n_hops = int(seconds * SAMPLE_RATE) // HOP
    length = n_hops * HOP
    n_frames = length // _SYN_HOP + 1                               # istft frames (center=True)
    spk_ids, labels, f0_tracks, params = [], [], [], []
    for s in range(n_speakers):
        sp = speakers[s]
        for _ in range(per):
            lab = _phone_sequence(n_hops, sp, rng)                  # (T,)
            # per synthesis frame targets: F1..F3, voicing amplitude, noise amplitude, noise kind (one-hot 4)
            tgt = np.zeros((n_hops, 9))
            for t, p in enumerate(lab):
                name = PHONES[p]
                if name in VOWELS:
                    tgt[t, :3], tgt[t, 3], tgt[t, 4] = sp["vowels"][name], 1.0, sp["breath"]
                    tgt[t, 5] = 1.0
                elif name == "m":
                    tgt[t, :3], tgt[t, 3], tgt[t, 4] = [f * sp["scale"] * (1.15 if sp["group"] != "man" else 1.0)
                                                        for f in _M_FORMANTS], 0.35, 0.5 * sp["breath"]
                    tgt[t, 5] = 1.0
                else:
                    tgt[t, :3] = tgt[t - 1, :3] if t else sp["vowels"]["ah"]   # formants glide through
                    if name == "sil":
                        tgt[t, 5] = 1.0
                    else:
                        tgt[t, 4] = _FRICATIVES[name][2]
                        tgt[t, 5 + ("s", "sh", "f").index(name) + 1] = 1.0
            tgt = _smooth(tgt, 4)                                   # ≈ 40 ms transitions (coarticulation)
            # source: pulse train at F0 with intonation and jitter
            frame_t = np.arange(n_frames) * _SYN_HOP / SAMPLE_RATE
            contour = 1 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.3, 1.2) * frame_t + rng.uniform(0, 2 * np.pi))
            contour *= np.linspace(1.05, 0.92, n_frames)            # declination
            contour *= 1 + jitter * rng.standard_normal(n_frames)  # jitter: a new random pitch every 5 ms
            f0_tracks.append(sp["f0"] * contour * float(np.exp(rng.normal(0, 0.04))))   # (frames,) Hz
            spk_ids.append(s)
            labels.append(lab)
            params.append((tgt, rng.uniform(*snr_db)))
    # the envelopes at the label rate (N, T, F), then interpolated to the synthesis frames
    f = torch.fft.rfftfreq(_N_FFT, 1 / SAMPLE_RATE)                 # (F,)
    tg = torch.as_tensor(np.stack([p[0] for p in params]), dtype=torch.float32)   # (N, T, 9)
    def info(key):
        return torch.tensor([speakers[s][key] for s in spk_ids], dtype=torch.float32)[:, None, None]
    tilt, scale = info("tilt"), info("scale")                       # (N, 1, 1)
    fr = f[None, None, :]                                           # (1, 1, F)
    env = _resonance(fr, tg[..., 0:1], _BANDWIDTHS[0])
    for j in (1, 2):
        env *= _resonance(fr, tg[..., j:j + 1], _BANDWIDTHS[j])     # (N, T, F)
    env *= _resonance(fr, 3500.0 * scale, 250.0)                    # F4, fixed per speaker
    glottal = (1 + fr / 100.0) ** (-tilt)                           # source tilt (−6·tilt dB/octave above 100 Hz)
    voiced = env * glottal * tg[..., 3:4]                           # (N, T, F)
    fric = (tg[..., 6:7] * _resonance(fr, _FRICATIVES["s"][0] * scale, _FRICATIVES["s"][1]) * (fr / 8000.0)
            + tg[..., 7:8] * _resonance(fr, _FRICATIVES["sh"][0] * scale, _FRICATIVES["sh"][1]) + tg[..., 8:9] * 0.5)
    noisy = tg[..., 4:5] * (fric + env * glottal.sqrt() * tg[..., 5:6])   # fricatives + aspiration
    def up(e):
        return torch.nn.functional.interpolate(e.transpose(1, 2), size=n_frames, mode="linear")  # (N, F, frames)
    # the sources, all utterances at once: a pulse train at F0 (one pulse per period) and white noise
    f0 = torch.as_tensor(np.stack(f0_tracks))[:, None]                                # (N, 1, frames) float64
    f0 = torch.nn.functional.interpolate(f0, size=(n_frames - 1) * _SYN_HOP + 1, mode="linear",
                                         align_corners=True)[:, 0, :length]           # (N, L) per sample
    phase = torch.cumsum(f0 / SAMPLE_RATE, 1) + torch.as_tensor(rng.uniform(size=(len(f0), 1)))
    cycles = torch.floor(phase)
    pulses = torch.diff(cycles, dim=1, prepend=cycles[:, :1]).clamp(0, 1)             # 1 at each new period
    voiced_src = (pulses * (SAMPLE_RATE / f0).sqrt()).float()                          # equal power per second
    noise_src = torch.as_tensor(rng.standard_normal((len(f0), length), dtype=np.float32))
    window = torch.hann_window(_N_FFT)
    def stft(src):
        return torch.stft(src, _N_FFT, _SYN_HOP, window=window, return_complex=True)
    spec = stft(voiced_src) * up(voiced) + 0.05 * stft(noise_src) * up(noisy)       # (N, F, frames)
    audio = torch.istft(spec, _N_FFT, _SYN_HOP, window=window, length=length)  # (N, L)
    rms = audio.pow(2).mean(1, keepdim=True).sqrt().clamp_min(1e-8)
    audio = audio / rms * 0.1                                       # speech at RMS 0.1
    snr = torch.tensor([p[1] for p in params], dtype=torch.float32)[:, None]
    bg = torch.as_tensor(rng.standard_normal((len(audio), length), dtype=np.float32))
    audio = audio + bg * 0.1 * 10 ** (-snr / 20)                    # background noise at the drawn SNR
    gain = info("gain")[:, 0]                                       # (N, 1)
    audio = (audio * gain).float()
    return SpeechCorpus(audio, torch.as_tensor(np.stack(labels)), torch.tensor(spk_ids), speakers, PHONES,
                        SAMPLE_RATE, seed, "synthetic_speech")


# ---------------------------------------------------------------------------------------------------- MFCC
def hz_to_mel(f):
    """The HTK mel scale, m = 2595 log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(n_mels: int = 40, n_fft: int = 400, sample_rate: int = SAMPLE_RATE, f_min: float = 0.0,
                   f_max: float | None = None) -> torch.Tensor:
    """(n_mels, n_fft // 2 + 1) triangular filters, equally spaced on the mel scale (HTK), peak 1."""
    n_mels = _check_int("n_mels", n_mels, 1, "it must be a positive integer")
    f_max = sample_rate / 2 if f_max is None else f_max
    edges = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))   # (n_mels + 2,)
    freqs = np.fft.rfftfreq(n_fft, 1 / sample_rate)                                    # (F,)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None] - lo) / (mid - lo)
    down = (hi - freqs[None]) / (hi - mid)
    return torch.as_tensor(np.clip(np.minimum(up, down), 0, None), dtype=torch.float32)


def dct_matrix(n_mfcc: int, n_mels: int) -> torch.Tensor:
    """(n_mfcc, n_mels) orthonormal DCT-II: c_k = √(2/M) Σ_m x_m cos(π k (m + ½) / M), c_0 scaled by √½."""
    m = np.arange(n_mels)
    d = np.cos(np.pi * np.arange(n_mfcc)[:, None] * (m[None] + 0.5) / n_mels) * np.sqrt(2.0 / n_mels)
    d[0] /= np.sqrt(2.0)
    return torch.as_tensor(d, dtype=torch.float32)


def log_mel(audio: torch.Tensor, n_mels: int = 40, n_fft: int = 400, hop: int = HOP) -> torch.Tensor:
    """(N, L) audio → (N, L // hop, n_mels) log-mel energies, frame t centred on hop t's centre (25 ms window)."""
    if not isinstance(audio, torch.Tensor) or audio.ndim != 2:
        raise ValueError(f"audio must be a tensor (N, L); got {getattr(audio, 'shape', type(audio).__name__)}.")
    if audio.shape[1] < hop:
        raise ValueError(f"audio has {audio.shape[1]} samples per utterance; at least one hop ({hop}) is needed.")
    t = audio.shape[1] // hop
    pad = (n_fft - hop) // 2
    x = torch.nn.functional.pad(audio.float()[:, : t * hop], (pad, n_fft - hop - pad))  # frame t: [hop·t − pad, …)
    spec = torch.stft(x, n_fft, hop, window=torch.hann_window(n_fft), center=False, return_complex=True)
    power = spec.abs() ** 2                                                               # (N, F, T)
    mel = mel_filterbank(n_mels, n_fft) @ power                                           # (N, n_mels, T)
    return torch.log(mel + 1e-6).transpose(1, 2)[:, :t]                                  # (N, T, n_mels)


def mfcc(audio: torch.Tensor, n_mfcc: int = 13, n_mels: int = 40, n_fft: int = 400, hop: int = HOP,
         deltas: bool = False) -> torch.Tensor:
    """(N, L) audio → (N, L // hop, n_mfcc) MFCCs (log-mel, then a DCT), aligned with the 10 ms phone labels;
    ``deltas=True`` appends the first differences over time (N, T, 2·n_mfcc)."""
    if not 1 <= n_mfcc <= n_mels:
        raise ValueError(f"n_mfcc={n_mfcc!r} is not allowed: it must be between 1 and n_mels={n_mels}.")
    c = log_mel(audio, n_mels, n_fft, hop) @ dct_matrix(n_mfcc, n_mels).T                # (N, T, n_mfcc)
    if deltas:
        d = torch.zeros_like(c)
        d[:, 1:-1] = (c[:, 2:] - c[:, :-2]) / 2
        c = torch.cat([c, d], -1)
    return c


def spectrum_peaks(segment: torch.Tensor, n_peaks: int = 3, f_max: float = 4000.0,
                   sample_rate: int = SAMPLE_RATE, smooth_hz: float = 200.0) -> list[float]:
    """The ``n_peaks`` lowest spectral-envelope peaks (Hz) of a voiced ``segment`` (1-D): its power spectrum
    averaged over 32 ms frames and smoothed over ``smooth_hz`` (to wash out the harmonics): formants."""
    x = segment.double()
    spec = torch.stft(x, 512, 128, window=torch.hann_window(512, dtype=torch.float64), return_complex=True)
    p = spec.abs().pow(2).mean(1)                                                         # (F,) 31.25 Hz bins
    f = torch.fft.rfftfreq(512, 1 / sample_rate)                                          # (F,)
    pz = p + 1e-12
    width = max(1, int(smooth_hz / (f[1] - f[0])))
    k = torch.hann_window(width * 2 + 1, periodic=False, dtype=torch.float64)
    k = k / k.sum()
    env = torch.nn.functional.conv1d(pz.log()[None, None], k[None, None], padding=width)[0, 0]
    inner = (env[1:-1] > env[:-2]) & (env[1:-1] >= env[2:]) & (f[1:-1] <= f_max) & (f[1:-1] > 150)
    return [float(v) for v in f[1:-1][inner][:n_peaks]]


def speaker_pitch(info: list[dict]) -> torch.Tensor:
    """(S,) each speaker's mean F0 in Hz (for the 'more than pitch' check)."""
    return torch.tensor([sp["f0"] for sp in info])


__all__ = ["SAMPLE_RATE", "HOP", "PETERSON_BARNEY", "PHONES", "VOWELS", "SpeechCorpus", "synthetic_speech",
           "make_speakers", "mel_filterbank", "dct_matrix", "log_mel", "mfcc", "spectrum_peaks", "hz_to_mel",
           "mel_to_hz", "speaker_pitch"]
