"""Checks for uploaded photos: real image content of an allowed type, bounded size."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

from .errors import ValidationFailed

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


def check_photo(upload: UploadedFile, *, field: str = "photos") -> str:
    """Return the file extension for ``upload`` or raise with a Chinese message.

    The type comes from the image content (Pillow), never from the name or the
    browser-sent content type, which anyone can forge.
    """
    limit = settings.KEFU_MAX_PHOTO_BYTES
    if upload.size is None or upload.size == 0:
        raise ValidationFailed("照片文件为空", field=field)
    if upload.size > limit:
        raise ValidationFailed(f"照片大小不能超过 {limit // (1024 * 1024)} MB：{upload.name}", field=field)
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            fmt = image.format or ""
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationFailed(f"不是有效的图片文件：{upload.name}", field=field) from None
    finally:
        upload.seek(0)
    if fmt not in ALLOWED_FORMATS:
        raise ValidationFailed(f"照片格式不支持（仅支持 JPG、PNG、WEBP、GIF）：{upload.name}", field=field)
    return ALLOWED_FORMATS[fmt]


def check_photos(uploads: list[UploadedFile], *, field: str = "photos") -> list[str]:
    if len(uploads) > settings.KEFU_MAX_PHOTOS:
        raise ValidationFailed(f"一次最多上传 {settings.KEFU_MAX_PHOTOS} 张照片", field=field)
    return [check_photo(upload, field=field) for upload in uploads]
