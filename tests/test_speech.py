"""The speech synthesiser of week 5 (sslstudy.speech): determinism, labels, alignment, formants, MFCC, bad input."""
import numpy as np
import pytest
import torch

from sslstudy import speech


@pytest.fixture(scope="module")
def small():
    return speech.synthetic_speech(6, 3, seconds=0.64, seed=5)


def test_deterministic_from_the_seed(small):
    again = speech.synthetic_speech(6, 3, seconds=0.64, seed=5)
    other = speech.synthetic_speech(6, 3, seconds=0.64, seed=6)
    assert torch.equal(small.phones, again.phones) and torch.equal(small.speakers, again.speakers)
    assert torch.allclose(small.audio, again.audio, atol=1e-6)
    assert not torch.equal(small.phones, other.phones)


def test_shapes_labels_and_frame_alignment(small):
    n, length = small.audio.shape
    assert (n, length) == (18, 10_240) and small.audio.dtype == torch.float32
    assert small.phones.shape == (18, length // speech.HOP) and small.phones.dtype == torch.long
    assert small.speakers.tolist() == [s for s in range(6) for _ in range(3)]
    assert int(small.phones.min()) >= 0 and int(small.phones.max()) < len(speech.PHONES) == 15
    counts = torch.bincount(small.phones.flatten(), minlength=15)
    assert (counts > 0).sum() >= 12                                  # most phones occur even in 18 × 0.64 s
    # durations: every run of a phone inside an utterance lasts 5–15 hops (50–150 ms)
    for row in small.phones:
        change = torch.nonzero(row[1:] != row[:-1]).flatten() + 1
        runs = torch.diff(change)                                    # complete runs (not cut by the window)
        assert runs.numel() == 0 or (int(runs.min()) >= 5 and int(runs.max()) <= 15)
    # alignment: silence hops are quiet, vowel hops are loud (label t ↔ samples [160 t, 160 t + 160))
    energy = small.audio.reshape(n, -1, speech.HOP).pow(2).mean(-1)  # (N, T)
    sil, vow = small.phones == speech.SIL, small.phones < len(speech.VOWELS)
    inner = torch.zeros_like(sil)                                    # hops 2 away from any other phone
    inner[:, 2:-2] = (small.phones[:, 2:-2] == small.phones[:, :-4]) & (small.phones[:, 2:-2] == small.phones[:, 4:])
    assert energy[sil & inner].median() * 20 < energy[vow & inner].median()


def test_speakers_differ_in_more_than_pitch():
    info = speech.make_speakers(48, np.random.default_rng(0))
    assert {s["group"] for s in info} == {"man", "woman", "child"}
    f0 = speech.speaker_pitch(info)
    gap = (f0[:, None] / f0[None] - 1).abs() + torch.eye(48) * 9     # relative pitch gap to the nearest speaker
    assert (gap.min(1).values < 0.05).float().mean() > 0.5           # most speakers share their pitch with another
    for key in ("scale", "rate", "tilt", "breath"):
        assert np.std([s[key] for s in info]) > 0.02


def test_vowel_formants_measured_from_the_audio():
    """A steady low-pitched male voice with Peterson & Barney's men's averages: the spectral-envelope peaks of
    each vowel's middle sit at the table's F1 and F2 (median over occurrences, within 12%). 'ao' (F1 570,
    F2 840 Hz) is left out: its two formants merge into one peak at this resolution."""
    sp = speech.make_speakers(1, np.random.default_rng(0))[0]
    sp.update(group="man", f0=80.0, scale=1.0, rate=1.2, tilt=1.0, breath=0.02, gain=1.0,
              vowels={v: list(speech.PETERSON_BARNEY[v][1]) for v in speech.VOWELS})
    c = speech.synthetic_speech(1, 12, seed=0, snr_db=(40.0, 40.0), jitter=0.0, speakers=[sp])
    errors = {}
    for i in range(len(c)):
        lab, t = c.phones[i], 0
        while t < len(lab):
            u = t
            while u < len(lab) and lab[u] == lab[t]:
                u += 1
            name = c.phone_names[int(lab[t])]
            if name in speech.VOWELS and u - t >= 9:
                peaks = speech.spectrum_peaks(c.audio[i, (t + 3) * 160:(u - 3) * 160], 6, smooth_hz=120)
                table = speech.PETERSON_BARNEY[name][1]
                errors.setdefault(name, []).append([min(abs(p - f) / f for p in peaks) for f in table[:2]])
            t = u
    assert len(errors) >= 8
    for name, e in errors.items():
        if name == "ao":
            continue
        median = np.median(np.asarray(e), 0)
        assert (median < 0.12).all(), (name, median)


def test_mfcc_aligned_and_mel_filterbank():
    fb = speech.mel_filterbank(40, 400)
    assert fb.shape == (40, 201) and float(fb.max()) <= 1.0 + 1e-6 and (fb.sum(1) > 0).all()
    d = speech.dct_matrix(13, 40)
    assert torch.allclose(d @ d.T, torch.eye(13), atol=1e-5)         # orthonormal rows
    audio = torch.randn(2, 3_200)
    assert speech.mfcc(audio).shape == (2, 20, 13) and speech.mfcc(audio, deltas=True).shape == (2, 20, 26)
    # frame t is centred on hop t: a click in hop 7 is loudest in log-mel frame 7
    click = torch.zeros(1, 3_200)
    click[0, 7 * 160 + 80] = 1.0
    assert int(speech.log_mel(click).sum(-1)[0].argmax()) == 7


def test_split_keeps_every_speaker(small):
    train, test = small.split(1)
    assert len(train) == 12 and len(test) == 6
    assert set(train.speakers.tolist()) == set(test.speakers.tolist()) == set(range(6))


@pytest.mark.parametrize("kwargs, words", [
    ({"n_speakers": 0}, "n_speakers=0"),
    ({"utterances_per_speaker": 1.5}, "utterances_per_speaker=1.5"),
    ({"seconds": 0.01}, "seconds=0.01"),
    ({"snr_db": (20.0, 5.0)}, "snr_db=(20.0, 5.0)"),
    ({"jitter": 0.5}, "jitter=0.5"),
])
def test_bad_input_one_sentence(kwargs, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        speech.synthetic_speech(**{"n_speakers": 2, "utterances_per_speaker": 1, **kwargs})
    with pytest.raises(ValueError, match="test_per_speaker=3"):
        speech.synthetic_speech(2, 2, seconds=0.1).split(3)
