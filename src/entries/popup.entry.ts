import '../popup/popup-app';
