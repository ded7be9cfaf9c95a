"""The Keras download path against a local HTTP server: verified, never cached when bad."""

import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

import lenet
from lenet import data as data_module


@pytest.fixture
def mnist_file(tmp_path, sample):
    """A small valid Keras-layout mnist.npz built from the sample, and its sha256."""
    path = tmp_path / "served" / "mnist.npz"
    path.parent.mkdir()
    np.savez_compressed(
        path,
        x_train=sample.x_train[:100],
        y_train=sample.y_train[:100],
        x_test=sample.x_test[:20],
        y_test=sample.y_test[:20],
    )
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


class ShortBody(http.server.SimpleHTTPRequestHandler):
    """Announces the whole file but sends half of it, like a dropped connection."""

    def do_GET(self):
        body = Path(self.directory, "mnist.npz").read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """Serve a folder on 127.0.0.1 and point LENET_MNIST_URL and the Keras cache at it."""
    servers = []
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("LENET_MNIST_PATH", raising=False)

    def start(folder, handler=http.server.SimpleHTTPRequestHandler):
        class Quiet(handler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(folder), **kwargs)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        monkeypatch.setenv("LENET_MNIST_URL", f"http://127.0.0.1:{server.server_address[1]}/mnist.npz")

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def cached_files(tmp_path):
    """The dataset cache's files (Keras may write its own keras.json beside it)."""
    return sorted(path.name for path in (tmp_path / "keras" / "datasets").rglob("*") if path.is_file())


def test_a_good_download_is_verified_cached_and_loaded(tmp_path, mnist_file, serve, monkeypatch):
    path, digest = mnist_file
    monkeypatch.setattr(data_module, "KERAS_MNIST_SHA256", digest)
    serve(path.parent)
    data = lenet.load_mnist("keras")
    assert data.source == "keras" and len(data.y_train) == 100 and len(data.y_test) == 20
    assert cached_files(tmp_path) == ["mnist.npz"]
    assert (tmp_path / "keras" / "datasets" / "mnist.npz").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("damage", ["corrupted", "truncated", "connection dropped"])
def test_a_bad_download_is_refused_and_not_cached(tmp_path, mnist_file, serve, monkeypatch, damage):
    path, digest = mnist_file
    monkeypatch.setattr(data_module, "KERAS_MNIST_SHA256", digest)
    content = path.read_bytes()
    if damage == "corrupted":
        path.write_bytes(content[:1000] + bytes([content[1000] ^ 0xFF]) + content[1001:])
    elif damage == "truncated":
        path.write_bytes(content[: len(content) // 2])
    serve(path.parent, ShortBody if damage == "connection dropped" else http.server.SimpleHTTPRequestHandler)
    expected = "corrupted or truncated" if damage != "connection dropped" else "could not download MNIST from http:"
    with pytest.raises(lenet.DataError, match=expected) as error:
        lenet.load_mnist("keras")
    assert "LENET_MNIST_PATH=path/to/mnist.npz" in str(error.value) and "--data path/to/mnist.npz" in str(error.value)
    assert cached_files(tmp_path) == []


def test_a_damaged_cached_copy_is_replaced_by_a_verified_download(tmp_path, mnist_file, serve, monkeypatch):
    path, digest = mnist_file
    monkeypatch.setattr(data_module, "KERAS_MNIST_SHA256", digest)
    cached = tmp_path / "keras" / "datasets" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(path.read_bytes()[:500])
    serve(path.parent)
    assert len(lenet.load_mnist("keras").y_train) == 100
    assert cached.read_bytes() == path.read_bytes()
