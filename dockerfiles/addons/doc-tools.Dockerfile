# ---- add-on doc-tools: OCR and PDF tools (tesseract, poppler, qpdf).
RUN set -eu; \
    apt-get update; \
    apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng poppler-utils qpdf; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
