"""Scrapy downloader middlewares of the crawler, one concern per module."""
