#!/usr/bin/env python3
"""The recipient's side of the portal in a real browser: Debian's chromium, headless, at a phone's
size, driven by selenium through chromedriver. It follows the link from the notice, asks for a
code, reads the code from the SMS gateway's messages (as the recipient reads their phone),
enters it, downloads the first document and acknowledges receipt, with a screenshot of each page.

Usage: portal_browser.py LINK GATEWAY_MESSAGES_URL NUMBER CASE OUTDIR
Prints one JSON object: what the pages said, the SHA-256 of the downloaded file, the screenshots.
Exits 1 with a message when a step fails.
"""
import glob
import hashlib
import json
import os
import re
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import WebDriverWait

link, gateway, number, case, outdir = sys.argv[1:6]
downloads = os.path.join(outdir, "downloads")
os.makedirs(downloads, exist_ok=True)

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 # The appliance's certificate is from its own CA; the test's curl checks it.
                 "--ignore-certificate-errors", "--window-size=390,844", "--lang=zh-CN"):
    options.add_argument(argument)
options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
result = {"screenshots": []}


def shot(name):
    path = os.path.join(outdir, name + ".png")
    driver.save_screenshot(path)
    result["screenshots"].append(path)


def fail(message):
    result["error"] = message
    result["page"] = driver.page_source[:4000]
    print(json.dumps(result, ensure_ascii=False))
    driver.quit()
    sys.exit(1)


try:
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    wait = WebDriverWait(driver, 30)

    # The link alone shows nothing of the case.
    driver.get(link)
    wait.until(conditions.element_to_be_clickable((By.ID, "send-code")))
    result["entryLanguage"] = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    result["entryText"] = driver.find_element(By.TAG_NAME, "body").text
    if case in driver.page_source:
        fail("the page shows the case before identification")
    shot("1-entry")

    before = len(json.load(urllib.request.urlopen(gateway)))
    driver.find_element(By.ID, "send-code").click()
    wait.until(conditions.element_to_be_clickable((By.ID, "code")))
    code = None
    deadline = time.time() + 30
    while code is None and time.time() < deadline:
        messages = json.load(urllib.request.urlopen(gateway))[before:]
        for message in messages:
            found = re.search(r"\b(\d{6})\b", message["text"])
            if message["to"] == number and found:
                code = found.group(1)
        time.sleep(0.2)
    if code is None:
        fail("no code reached the phone")
    result["codeText"] = [m["text"] for m in json.load(urllib.request.urlopen(gateway)) if m["to"] == number][-1]
    driver.find_element(By.ID, "code").send_keys(code)
    shot("2-code")
    driver.find_element(By.ID, "verify").click()

    # Identified: the documents, the case, the answers.
    wait.until(conditions.element_to_be_clickable((By.ID, "acknowledge")))
    result["documentsText"] = driver.find_element(By.TAG_NAME, "body").text
    shot("3-documents")
    driver.find_element(By.ID, "download-0").click()
    deadline = time.time() + 30
    files = []
    while time.time() < deadline:
        files = [f for f in glob.glob(os.path.join(downloads, "*")) if not f.endswith(".crdownload")]
        if files:
            break
        time.sleep(0.2)
    if not files:
        fail("the download did not arrive")
    time.sleep(0.5)
    with open(files[0], "rb") as handle:
        result["download"] = {"name": os.path.basename(files[0]), "sha256": hashlib.sha256(handle.read()).hexdigest()}

    driver.find_element(By.ID, "acknowledge").click()
    wait.until(conditions.presence_of_element_located((By.ID, "answer")))
    result["answerText"] = driver.find_element(By.ID, "answer").text
    shot("4-acknowledged")
except Exception as error:
    fail("a step failed: %r" % error)
finally:
    # fail() quits and exits; here chromium is never left running.
    try:
        driver.quit()
    except Exception:
        pass

print(json.dumps(result, ensure_ascii=False))
