"""What a DKIM signature costs per mail: `python -m bench.signing`.

A typical ~2 KB Japanese order mail is composed and signed with a 2048-bit key, as
`sending.deliver` does for every mail whose From domain has a key. Each figure is the best of
5 rounds, in microseconds of this process's CPU time (the machine is shared: wall time would
count the neighbours).
dkimpy's own `dkim.sign` (PEM parsed and pure-Python RSA on every call) is shown beside it.
"""

from __future__ import annotations

import threading
import time

import dkim
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from shopmail.mail import signing
from shopmail.mail.compose import Mail, compose

ROUNDS = 5


def typical_mail() -> Mail:
    lines = [
        "山田 太郎 様",
        "",
        "この度はさくら雑貨 本店をご利用いただき、誠にありがとうございます。",
        "ご注文の内容を下記のとおり承りました。",
        "",
        "■ご注文内容",
        "注文番号：A000123",
        "注文日時：2026年12月03日 10:15",
        "有田焼 マグカップ 藍  2,200円 × 2",
        "今治タオル フェイスタオル  1,100円 × 3",
        "商品合計：7,700円  送料：660円  注文総額：8,360円",
        "",
        "■お届け先",
        "〒600-8216 京都府京都市下京区東塩小路町 1-2-3",
        "山田 太郎 様  TEL 075-000-0001",
        "",
        "商品の発送準備が整い次第、あらためてご連絡いたします。",
        "--",
        "さくら雑貨 本店  TEL 075-000-0000  support@sakura.example.jp",
    ]
    return Mail(
        from_addr="shop@sakura.example.jp",
        from_name="さくら雑貨 本店",
        to="taro@example.jp",
        to_name="山田 太郎",
        subject="【さくら雑貨 本店】ご注文ありがとうございます(注文番号 A000123)",
        text="\n".join(lines * 2) + "\n",
        message_id="<m123.order_confirmation.abcdefghijkl@mail.shopmail.example>",
        reply_to="support@sakura.example.jp",
        extra_headers=[("X-Shopmail-Id", "123")],
    )


def best(func, n: int) -> float:
    func()
    rounds = []
    for _ in range(ROUNDS):
        start = time.process_time()  # CPU time: a busy neighbour does not count
        for _ in range(n):
            func()
        rounds.append((time.process_time() - start) / n * 1e6)
    return min(rounds)


def threads_rate(func, threads: int, seconds: float = 1.0) -> float:
    """Calls per second with `threads` threads: above one thread's rate if the GIL is released."""
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def work(i: int) -> None:
        while time.monotonic() < stop:
            func()
            counts[i] += 1

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / seconds


def main() -> None:
    pem = signing.generate_private_key()
    signer = signing.Signer.from_pem("sakura.example.jp", "sm202612", pem)
    mail = typical_mail()
    data = compose(mail)
    digest = b"\0" * 32

    def rsa_only() -> None:
        signer.key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))

    class NoRsa:  # the same signer with the RSA step taken out: what dkimpy's parts cost
        def sign(self, *args) -> bytes:
            return b"\0" * 256

    unsigned = signing.Signer(signer.domain, signer.selector, NoRsa())  # type: ignore[arg-type]
    composed = best(lambda: compose(mail), 2000)
    signed = best(lambda: signer.sign(compose(mail)), 300)
    rsa = best(rsa_only, 300)
    parts = best(lambda: unsigned.sign(data), 2000)
    dkimpy = best(lambda: dkim.sign(data, b"sm202612", b"sakura.example.jp", pem.encode()), 20)
    print(f"mail: {len(data):,} bytes composed, {len(signer.sign(data)):,} signed")
    print(f"compose                       {composed:8.0f} µs")
    print(f"compose + DKIM sign           {signed:8.0f} µs  (signing {signed - composed:.0f} µs)")
    print(f"  of which the RSA signature  {rsa:8.0f} µs  (cryptography / OpenSSL)")
    print(f"  the rest (dkimpy's parts)   {parts:8.0f} µs  (parse, canonicalise, hash, fold)")
    print(f"dkimpy's own dkim.sign        {dkimpy:8.0f} µs  (PEM parsed + Python RSA per call)")
    one, two = threads_rate(rsa_only, 1), threads_rate(rsa_only, 2)
    print(f"RSA signatures/s: 1 thread {one:,.0f}, 2 threads {two:,.0f}")


if __name__ == "__main__":
    main()
